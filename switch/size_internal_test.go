package switchd

import (
	"testing"
	"unsafe"
)

// TestRequestSizeClass: a relayed request from a plain iso87ascii listener
// is one allocation of the 448-byte size class (see request); a field
// added to it, rather than to edgeRequest, would take the next class up.
func TestRequestSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(request{}); n > 448 {
		t.Fatalf("request is %d bytes: above the 448-byte size class", n)
	}
}

// snapSwitch is a Switch with an empty routing snapshot: enough for an
// acqConn's journal entry (entry) in tests that build one by hand.
func snapSwitch() *Switch {
	s := &Switch{}
	s.routes.Store(&snapshot{})
	return s
}
