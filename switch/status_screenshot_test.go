package switchd_test

import (
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/browsertest"
	"github.com/cardswitch/cardswitch/issuersim"
	switchd "github.com/cardswitch/cardswitch/switch"
)

// TestStatusPageScreenshot saves the README's picture of the status page:
// the embedded default config (its two simulators on free ports), 40 s
// of varied traffic so that the charts have a shape, one simulator taken
// down, a route lookup, then the 1280x800 viewport. It is a tool, not a
// check: it runs only when CARDSWITCH_SCREENSHOT names the output file,
//
//	CARDSWITCH_SCREENSHOT=$PWD/docs/status.png go test -run TestStatusPageScreenshot ./switch/
func TestStatusPageScreenshot(t *testing.T) {
	out := os.Getenv("CARDSWITCH_SCREENSHOT")
	if out == "" {
		t.Skip("set CARDSWITCH_SCREENSHOT=<file.png> to save a screenshot of the status page")
	}
	ctx := browsertest.Start(t)
	sw, base := defaultConfigSwitch(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base+"/status")))
	screenshotTraffic(t, sw.addr, 40*time.Second)
	code, body := adminReq(t, "POST", base+"/admin/simulators/demo-bank-b/down", "", nil)
	require.Equal(t, http.StatusOK, code, body)
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("lookup-pan"), "5500000000000004\n")))
	awaitJS(t, ctx, pageAwait, `!!document.querySelector('#lookup-result dl') && `+
		`!!document.querySelector('#issuers-body tr[data-issuer="bank-b"] .state-down')`, "lookup answered, bank-b down")
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(out, png, 0o644))
	t.Logf("saved %s (%d bytes)", out, len(png))
}

// defaultConfigSwitch runs the embedded default config as `serve` does,
// with every listener on a free port; it returns the switch and the admin
// base URL.
func defaultConfigSwitch(t *testing.T) (*running, string) {
	t.Helper()
	cfg, err := config.LoadDefault()
	require.NoError(t, err)
	fixed := make([]string, len(cfg.Simulators))
	for i := range cfg.Simulators {
		fixed[i] = cfg.Simulators[i].Listen
		cfg.Simulators[i].Listen = "127.0.0.1:0"
	}
	g, err := issuersim.StartGroup(cfg.Simulators, testLog(t))
	require.NoError(t, err)
	t.Cleanup(g.Close)
	moved := map[string]string{}
	for i, sim := range g.Sims() {
		moved[fixed[i]] = sim.Addr()
		cfg.Simulators[i].Listen = sim.Addr()
	}
	for i := range cfg.Issuers {
		for j, ep := range cfg.Issuers[i].Endpoints {
			if addr, ok := moved[ep]; ok {
				cfg.Issuers[i].Endpoints[j] = addr
			}
		}
	}
	cfg.Listen.Address = "127.0.0.1:0"
	cfg.Admin.Address = "127.0.0.1:0"
	cfg.Journal.Path = filepath.Join(t.TempDir(), "journal.db")
	sw := runSwitch(t, cfg, []string{"bank-a", "bank-b"}, switchd.WithLogger(testLog(t)), switchd.WithSimulators(g))
	return sw, "http://" + sw.AdminAddr()
}

// screenshotTraffic sends authorizations for d at a rate that rises and
// falls, with some amounts over the simulators' decline_above (51).
func screenshotTraffic(t *testing.T, addr string, d time.Duration) {
	t.Helper()
	pans := []string{"4111111111111111", "5500000000000004", "4000056655665556", "2223000048400011"}
	c := dial(t, addr)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	start := time.Now()
	for stan := 1; time.Since(start) < d; stan++ {
		<-tick.C
		phase := int(time.Since(start)/(5*time.Second)) % 4
		for range 1 + phase*2 {
			stan++
			amount := int64(1000 + stan%50*100)
			if stan%9 == 0 {
				amount = 250000
			}
			m, err := auth(pans[stan%len(pans)], amount, stan%1000000).Message()
			require.NoError(t, err)
			wg.Go(func() { _, _ = c.Send(m) })
		}
	}
}
