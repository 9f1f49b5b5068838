package prefetch

import (
	"testing"
	"unsafe"
)

// Line must accept any address, mapped or not, without faulting: callers
// pass addresses into tables that may have been replaced meanwhile.
func TestLineNeverFaults(t *testing.T) {
	b := make([]byte, 64)
	Line(uintptr(unsafe.Pointer(&b[0])))
	Line(0)
	Line(^uintptr(0) - 63)
}
