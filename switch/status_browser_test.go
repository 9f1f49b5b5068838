package switchd_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/browsertest"
	"github.com/cardswitch/cardswitch/issuersim"
	switchd "github.com/cardswitch/cardswitch/switch"
)

// The status page in a real headless Chromium against a real switch and
// its in-process issuer simulator. The awaits are generous (a loaded
// 2-core CI machine) except the one the issue bounds: an issuer going
// down shows on the page within 2 s.

// pageAwait bounds the waits for what has no stated bound: the page's
// first load, a lookup's answer, the table filling.
const pageAwait = 30 * time.Second

// statusPans are the full PANs the tests send; none may reach the browser.
var statusPans = []string{"4111111111111111", "4000056655665556", "4242424242424242", "4012888888881881"}

// pageSwitch runs a switch whose issuer "bank" is an in-process
// simulator "bank-sim", with the admin listener (token when not empty);
// it returns the switch, the admin base URL and a func that takes the
// simulator down (true) or up.
func pageSwitch(t *testing.T, token string) (*running, string, func(down bool)) {
	t.Helper()
	g, err := issuersim.StartGroup([]config.Simulator{{Name: "bank-sim", Listen: "127.0.0.1:0"}}, testLog(t))
	require.NoError(t, err)
	t.Cleanup(g.Close)
	dir := t.TempDir()
	admin := "admin: {address: \"127.0.0.1:0\"}\n"
	if token != "" {
		tokenFile := filepath.Join(dir, "admin.token")
		require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
		admin = "admin: {address: \"127.0.0.1:0\", token_file: " + tokenFile + "}\n"
	}
	yaml := standInYAML(filepath.Join(dir, "journal.db"), g.Sims()[0].Addr(), "5s", 0, "") + admin
	cfg, err := config.LoadBytes(t.Name()+".yaml", []byte(yaml))
	require.NoError(t, err)
	cfg.Listen.Address = "127.0.0.1:0"
	sw := runSwitch(t, cfg, []string{"bank"}, switchd.WithLogger(testLog(t)), switchd.WithSimulators(g))
	base := "http://" + sw.AdminAddr()
	setDown := func(down bool) {
		path := "/admin/simulators/bank-sim/up"
		if down {
			path = "/admin/simulators/bank-sim/down"
		}
		hdr := map[string]string{}
		if token != "" {
			hdr["Authorization"] = "Bearer " + token
		}
		code, body := adminReq(t, "POST", base+path, "", hdr)
		require.Equal(t, http.StatusOK, code, body)
	}
	return sw, base, setDown
}

// issuerState is a page expression: the state word shown for issuer
// "bank" in the issuers table, "" until the row is there.
const issuerState = `(() => { const w = document.querySelector('#issuers-body tr[data-issuer="bank"] .state .word');` +
	` return w ? w.textContent : ''; })()`

// awaitJS waits until the page expression expr is true, for at most d.
func awaitJS(t *testing.T, ctx context.Context, d time.Duration, expr, what string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		err := chromedp.Do(wctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond),
			chromedp.WithPollingTimeout(0)))
		if err == nil {
			return
		}
		if wctx.Err() != nil {
			page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			t.Fatalf("%s: not seen within %v: %v; the page:\n%.2000s", what, d, err, page)
		}
		// A navigation (a sign-in's redirect) ends a poll: poll the new
		// document.
	}
}

// pageData reports whether a response seen by the browser is status
// data (not the page's own files).
func pageData(url string) bool {
	return strings.Contains(url, "/status.json") || strings.Contains(url, "/status/transactions") ||
		strings.Contains(url, "/status/lookup")
}

// The page loads with no console error and no request anywhere but the
// admin listener; issuer "bank" shows "down" within 2 s of its simulator
// going down and "up" again once its link is back; the lookup box answers
// by keyboard and forgets the PAN; the last transactions fill under load
// and filter; no full PAN ever sits in the DOM or in the status data the
// browser received; and the page fits 1280 px and a 390 px phone.
func TestStatusPageInBrowser(t *testing.T) {
	ctx := browsertest.Start(t)
	sw, base, setDown := pageSwitch(t, "")
	rec := browsertest.Record(t, ctx, pageData)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/status")))
	awaitJS(t, ctx, pageAwait, issuerState+` === 'up'`, `issuer "bank" shown up`)

	lookupByKeyboard(t, ctx)
	downAndUp(t, ctx, sw, setDown)
	transactionsUnderLoad(t, ctx, sw)

	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	require.NoError(t, err)
	bodies, err := rec.Bodies(ctx)
	require.NoError(t, err)
	seen := map[string]int{}
	for _, b := range bodies {
		seen[b.URL[len(base):strings.IndexAny(b.URL+"?", "?")]]++
		for _, pan := range statusPans {
			assert.False(t, strings.Contains(b.Text, pan), "full PAN %s in %s", pan[:6], b.URL)
		}
	}
	for _, pan := range statusPans {
		assert.False(t, strings.Contains(html, pan), "full PAN %s in the DOM", pan[:6])
	}
	assert.Contains(t, html, "411111******1111", "the masked PANs are shown")
	assert.Positive(t, seen["/status.json"], "status.json bodies checked: %v", seen)
	assert.Positive(t, seen["/status/transactions"], "transactions bodies checked: %v", seen)
	assert.Positive(t, seen["/status/lookup"], "lookup bodies checked: %v", seen)

	for _, width := range []int64{1280, 390} {
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 800)))
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[int](
			`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
		require.NoError(t, err)
		assert.Zero(t, overflow, "at %d px the page does not scroll sideways (its tables do)", width)
	}

	assert.Empty(t, rec.Errors(), "console errors")
	requests := rec.Requests()
	assert.NotEmpty(t, requests)
	for _, u := range requests {
		assert.True(t, strings.HasPrefix(u, base+"/") || strings.HasPrefix(u, "data:"), "request to another origin: %s", u)
	}
}

// lookupByKeyboard types a PAN into the lookup box, submits it with
// Enter, and reads the answer from the live region; the input is empty
// afterwards.
func lookupByKeyboard(t *testing.T, ctx context.Context) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Focus(chromedp.ID("lookup-pan")),
		chromedp.SendKeys(chromedp.ID("lookup-pan"), statusPans[0]+"\n")))
	awaitJS(t, ctx, pageAwait, `!!document.querySelector('#lookup-result dl')`, "the lookup answer")
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`({
		text: document.getElementById('lookup-result').textContent,
		live: document.getElementById('lookup-result').getAttribute('aria-live'),
		input: document.getElementById('lookup-pan').value,
		label: document.querySelector('label[for=lookup-pan]').textContent})`))
	require.NoError(t, err)
	assert.Contains(t, got["text"], "411111******1111", "the masked input")
	assert.Contains(t, got["text"], "bank", "the winning issuer")
	assert.Equal(t, "polite", got["live"])
	assert.Empty(t, got["input"], "the PAN is cleared once answered")
	assert.NotEmpty(t, got["label"])
}

// downAndUp takes the simulator down: the page must say "down" within
// 2 s of the call; brought up, it must say "up" within 2 s of the
// switch's link being back.
func downAndUp(t *testing.T, ctx context.Context, sw *running, setDown func(bool)) {
	t.Helper()
	downAt := time.Now()
	setDown(true)
	awaitJS(t, ctx, 2*time.Second-time.Since(downAt), issuerState+` === 'down'`, `issuer "bank" shown down within 2 s`)
	setDown(false)
	waitLinks(t, sw, atLeast(1))
	awaitJS(t, ctx, 2*time.Second, issuerState+` === 'up'`, `issuer "bank" shown up again within 2 s`)
}

// transactionsUnderLoad sends 300 authorizations from 6 acquirer
// goroutines; the page's table then holds the last 50, with masked PANs,
// and the issuer and code filters narrow it.
func transactionsUnderLoad(t *testing.T, ctx context.Context, sw *running) {
	t.Helper()
	c := dial(t, sw.addr)
	var wg sync.WaitGroup
	errs := make(chan error, 300)
	for g := range 6 {
		wg.Go(func() {
			for i := range 50 {
				stan := 1000 + g*50 + i
				m, err := auth(statusPans[stan%len(statusPans)], 100+int64(i), stan).Message()
				if err == nil {
					_, err = c.Send(m)
				}
				if err != nil {
					errs <- fmt.Errorf("STAN %d: %w", stan, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	rows := `document.querySelectorAll('#txn-body tr').length`
	awaitJS(t, ctx, pageAwait, rows+` === 50`, "50 transactions listed")
	pans, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('#txn-body td.pan')).map(td => td.textContent)`))
	require.NoError(t, err)
	require.Len(t, pans, 50)
	for _, p := range pans {
		assert.Regexp(t, `^\d{6}\*+\d{4}$`, p, "masked PAN")
	}

	// A code no answer had: the table empties and says so; cleared, it fills again.
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("f-code"), "96")))
	awaitJS(t, ctx, pageAwait, `document.getElementById('txn-body').textContent.includes('no transaction matches')`,
		"the code filter applied")
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const code = document.getElementById('f-code'), issuer = document.getElementById('f-issuer');
		code.value = ''; issuer.value = 'bank';
		issuer.dispatchEvent(new Event('change'));
	})()`)))
	awaitJS(t, ctx, pageAwait, rows+` === 50 && Array.from(document.querySelectorAll('#txn-body tr'))`+
		`.every(tr => tr.cells[2].textContent === 'bank')`, "the issuer filter applied")
}

// With a token: the page sends a browser to sign in; a wrong token is
// refused with a message, the right one shows the page, and its data;
// signing out ends the session.
func TestStatusPageSignInInBrowser(t *testing.T) {
	const token = "page-token-0123456789abcdef"
	ctx := browsertest.Start(t)
	_, base, _ := pageSwitch(t, token)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/status")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, base+"/status/login", loc, "sent to sign in")

	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("token"), "wrong-token-0123456789\n")))
	awaitJS(t, ctx, pageAwait, `(document.querySelector('[role=alert]') || {}).textContent === 'wrong token'`,
		"the wrong token refused")
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.textContent`))
	require.NoError(t, err)
	assert.NotContains(t, body, "issuers", "no status shown")

	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("token"), token+"\n")))
	awaitJS(t, ctx, pageAwait, `location.pathname === '/status' && `+issuerState+` === 'up'`,
		"the page and its data after signing in")
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	require.NoError(t, err)
	assert.NotContains(t, html, token, "the token is not in the page")
	cookie, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	require.NoError(t, err)
	assert.Empty(t, cookie, "the session cookie is HttpOnly")

	// Signing out ends the session: the page sends the browser to sign in again.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#logout-form button"))))
	awaitJS(t, ctx, pageAwait, `location.pathname === '/status/login' && !!document.getElementById('token')`, "signed out")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/status")))
	loc, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, base+"/status/login", loc, "the session ended")
}
