package switchd_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// switch, link, simulator, proxy and client a test starts must be gone
// once its cleanups have run. No goroutine of a dependency is ignored.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
