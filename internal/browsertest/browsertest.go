// Package browsertest runs a headless Chromium for end-to-end tests of
// the status page, and records what the page did: every request it made,
// every console error and uncaught exception, and the bodies of chosen
// responses.
//
// The browser is Debian's chromium: $CARDSWITCH_CHROMIUM, else
// /usr/bin/chromium, else chromium on the PATH. Without one a test skips
// with a message, except under CI=true, where it fails: CI installs it
// (.ci/chromium), so a missing browser there is a broken set-up, not a
// reason to pass.
package browsertest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// debianPath is where Debian's chromium package puts the browser.
var debianPath = "/usr/bin/chromium"

// Path is the Chromium to run, or "" when there is none.
func Path() string {
	if p := os.Getenv("CARDSWITCH_CHROMIUM"); p != "" {
		return p
	}
	if st, err := os.Stat(debianPath); err == nil && !st.IsDir() {
		return debianPath
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		return ""
	}
	return p
}

// flags keep the browser to the page under test: no sandbox (CI runs as
// root in a container), no GPU, and none of the background requests a
// fresh profile makes to Google (component updates, sync, field trials),
// which would otherwise show up as requests to other origins.
func flags(path, profile string, width, height int) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication"),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
}

// Start runs a headless Chromium with a fresh profile for the length of
// the test, with a 1280x800 window, and returns the context of its tab.
// The browser is started before Start returns, so that a deadline on a
// later action bounds that action only.
func Start(t testing.TB) context.Context {
	t.Helper()
	path := Path()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("browsertest: no chromium (set CARDSWITCH_CHROMIUM, or run .ci/chromium)")
		}
		t.Skip("browsertest: no chromium found (CARDSWITCH_CHROMIUM, /usr/bin/chromium, PATH); " +
			"install Debian's chromium (bash .ci/chromium) to run the browser tests")
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags(path, t.TempDir(), 1280, 800)...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: start %s: %v", path, err)
	}
	return ctx
}

// Recorder is what a tab did since Record.
type Recorder struct {
	mu       sync.Mutex
	requests []string                     // URLs, in order
	errors   []string                     // console errors, exceptions, error log entries
	urls     map[network.RequestID]string // of the requests whose body is kept
	finished []network.RequestID          // loaded, body not read yet
	keep     func(url string) bool        // which responses' bodies Bodies reads
}

// Record starts recording the tab of ctx; keep says which responses'
// bodies Bodies returns (nil: none). Call it before navigating.
func Record(t testing.TB, ctx context.Context, keep func(url string) bool) *Recorder {
	t.Helper()
	r := &Recorder{urls: map[network.RequestID]string{}, keep: keep}
	if err := chromedp.Listen(ctx, r.on); err != nil {
		t.Fatalf("browsertest: listen: %v", err)
	}
	return r
}

// on runs in the tab's event loop: it only records.
func (r *Recorder) on(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		r.requests = append(r.requests, ev.Request.URL)
		if r.keep != nil && r.keep(ev.Request.URL) {
			r.urls[ev.RequestID] = ev.Request.URL
		}
	case *network.EventLoadingFinished:
		if _, ok := r.urls[ev.RequestID]; ok {
			r.finished = append(r.finished, ev.RequestID)
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			r.errors = append(r.errors, "console."+string(ev.Type)+": "+argsText(ev.Args))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		r.errors = append(r.errors, "exception: "+text)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			r.errors = append(r.errors, "log ("+string(ev.Entry.Source)+"): "+ev.Entry.Text+" "+ev.Entry.URL)
		}
	}
}

func argsText(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		switch {
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// Requests are the URLs of every request the tab made.
func (r *Recorder) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...)
}

// Errors are the console errors, uncaught exceptions and error log
// entries (such as a failed load or a CSP violation) seen so far.
func (r *Recorder) Errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// Body is one kept response.
type Body struct {
	URL, Text string
}

// Bodies reads the bodies of the kept responses that finished loading
// since the last call. Read them before the tab navigates away: the
// browser may drop a page's bodies with the page.
func (r *Recorder) Bodies(ctx context.Context) ([]Body, error) {
	r.mu.Lock()
	ids := r.finished
	r.finished = nil
	r.mu.Unlock()
	var out []Body
	var errs []error
	for _, id := range ids {
		res, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: id})
		r.mu.Lock()
		url := r.urls[id]
		r.mu.Unlock()
		if err != nil {
			errs = append(errs, errors.New(url+": "+err.Error()))
			continue
		}
		out = append(out, Body{URL: url, Text: string(res.Body)})
	}
	return out, errors.Join(errs...)
}
