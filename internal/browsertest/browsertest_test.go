package browsertest

import (
	"fmt"
	"runtime"
	"testing"
)

// fakeT records how Start ends a test without a browser; Fatal and Skip
// end the goroutine as the real ones do.
type fakeT struct {
	testing.TB
	fatal, skip string
}

func (f *fakeT) Helper()                   {}
func (f *fakeT) TempDir() string           { return "" }
func (f *fakeT) Cleanup(func())            {}
func (f *fakeT) Fatal(args ...any)         { f.fatal = fmt.Sprint(args...); runtime.Goexit() }
func (f *fakeT) Fatalf(s string, a ...any) { f.fatal = fmt.Sprintf(s, a...); runtime.Goexit() }
func (f *fakeT) Skip(args ...any)          { f.skip = fmt.Sprint(args...); runtime.Goexit() }

func startWithout(t *testing.T, ci string) *fakeT {
	t.Helper()
	t.Setenv("CARDSWITCH_CHROMIUM", "")
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", ci)
	f := &fakeT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(f)
	}()
	<-done
	return f
}

// Without a browser: skipped with a message that says how to get one,
// except under CI=true, where the test fails.
func TestStartWithoutChromium(t *testing.T) {
	debian := debianPath
	debianPath = "/nonexistent/chromium"
	t.Cleanup(func() { debianPath = debian })
	f := startWithout(t, "")
	if f.skip == "" || f.fatal != "" {
		t.Errorf("outside CI: skip %q, fatal %q; want a skip", f.skip, f.fatal)
	}
	f = startWithout(t, "true")
	if f.fatal == "" || f.skip != "" {
		t.Errorf("under CI=true: skip %q, fatal %q; want a failure", f.skip, f.fatal)
	}
}

// CARDSWITCH_CHROMIUM wins over every other place.
func TestPathPrefersEnvironment(t *testing.T) {
	t.Setenv("CARDSWITCH_CHROMIUM", "/opt/chromium/chrome")
	if got := Path(); got != "/opt/chromium/chrome" {
		t.Errorf("Path() = %q", got)
	}
}
