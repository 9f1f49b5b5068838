package switchd_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadResult counts what a load client saw.
type loadResult struct {
	sent, answered atomic.Int64
	mu             sync.Mutex
	codes          map[string]int
	errs           []error
	progress       chan struct{} // a token after answers, for flowing
}

// flowing waits until n more answers have arrived: traffic is really
// flowing at this point of the test.
func (r *loadResult) flowing(t *testing.T, n int64) {
	t.Helper()
	target := r.answered.Load() + n
	deadline := time.After(30 * time.Second)
	for r.answered.Load() < target {
		select {
		case <-r.progress:
		case <-deadline:
			t.Fatalf("load stalled at %d answers", r.answered.Load())
		}
	}
}

// runLoad keeps conns closed-loop clients sending authorizations for pans
// until stop is closed.
func runLoad(t *testing.T, addr string, conns int, pans []string, stop <-chan struct{}) (*loadResult, *sync.WaitGroup) {
	res := &loadResult{codes: map[string]int{}, progress: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	for ci := 0; ci < conns; ci++ {
		c := dial(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				m, _ := auth(pans[(ci+i)%len(pans)], 100, i%999999+1).Message()
				res.sent.Add(1)
				resp, err := c.Send(m)
				res.mu.Lock()
				if err != nil {
					res.errs = append(res.errs, fmt.Errorf("conn %d request %d: %w", ci, i, err))
				} else {
					res.answered.Add(1)
					code, _ := resp.GetString(39)
					res.codes[code]++
					select {
					case res.progress <- struct{}{}:
					default:
					}
				}
				res.mu.Unlock()
			}
		}()
	}
	return res, &wg
}

// Routing changes while traffic flows: every request gets exactly one
// answer, none is lost or answered 96, and after each valid reload new
// requests follow the new routes.
func TestReloadUnderLoad(t *testing.T) {
	a := startSim(t, config.Simulator{Name: "a", ApprovalCodePrefix: "A"})
	b := startSim(t, config.Simulator{Name: "b", ApprovalCodePrefix: "B"})
	c := startSim(t, config.Simulator{Name: "c", ApprovalCodePrefix: "C"})
	iss := map[string]string{
		"a": issuerYAML("bank-a", "5s", a.Addr()), "b": issuerYAML("bank-b", "5s", b.Addr()),
		"c": issuerYAML("bank-c", "5s", c.Addr()),
	}
	conf := func(issuers string, routes ...string) string {
		y := "listen: {address: \"127.0.0.1:0\"}\njournal: {path: \"\"}\nadmin: {address: \"\"}\nissuers:\n"
		for _, k := range strings.Split(issuers, ",") {
			y += iss[k]
		}
		y += "routes:\n"
		for _, r := range routes {
			y += "  - " + r + "\n"
		}
		return y
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "cardswitch.yaml")
	write := func(content string) {
		tmp := filepath.Join(dir, "next.yaml")
		require.NoError(t, os.WriteFile(tmp, []byte(content), 0o600))
		require.NoError(t, os.Rename(tmp, path)) // as deployment tools do
	}
	require.NoError(t, os.WriteFile(path, []byte(conf("a,b", `{bin: "4", issuer: bank-a}`, `{bin: "5", issuer: bank-b}`)), 0o600))
	cfg, err := config.Load(path)
	require.NoError(t, err)
	sw, err := switchd.New(cfg, switchd.WithLogger(testLog(t)))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sw.Run(ctx) }()
	defer func() { cancel(); <-done }()
	addr := sw.Addr().String()
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	require.NoError(t, sw.WaitIssuer(wctx, "bank-a", atLeast(1)))
	require.NoError(t, sw.WaitIssuer(wctx, "bank-b", atLeast(1)))

	stop := make(chan struct{})
	load, wg := runLoad(t, addr, 6, []string{"4111111111111111", "5555555555554444", "5100000000000008"}, stop)
	probe := dial(t, addr)
	answeredBy := func(pan string) string {
		resp := send(t, probe, auth(pan, 100, 1))
		require.Equal(t, "00", str(t, resp, 39), pan)
		return str(t, resp, 38)[:1]
	}
	reloaded := func(wantOK, wantErr int64) {
		require.NoError(t, sw.Await(wctx, func() bool {
			st := sw.Stats()
			return st.Reloads >= wantOK && st.ReloadErrors >= wantErr
		}), "reload not seen")
	}
	require.Equal(t, "A", answeredBy("4111111111111111"))
	load.flowing(t, 50)

	// 1. A range moves to another issuer.
	write(conf("a,b", `{bin: "4", issuer: bank-a}`, `{bin: "411111-411199", issuer: bank-b}`, `{bin: "5", issuer: bank-b}`))
	reloaded(1, 0)
	load.flowing(t, 50)
	assert.Equal(t, "B", answeredBy("4111111111111111"))
	assert.Equal(t, "A", answeredBy("4000000000000002"))

	// 2. An issuer is added and takes a range.
	write(conf("a,b,c", `{bin: "4", issuer: bank-a}`, `{bin: "411111-411199", issuer: bank-b}`,
		`{bin: "5", issuer: bank-b}`, `{bin: "5555", issuer: bank-c}`))
	reloaded(2, 0)
	load.flowing(t, 50)
	assert.Equal(t, "C", answeredBy("5555555555554444"))

	// 3. An issuer is removed; its routes go elsewhere first.
	write(conf("a,c", `{bin: "4", issuer: bank-a}`, `{bin: "5", issuer: bank-c}`))
	reloaded(3, 0)
	load.flowing(t, 50)
	assert.Equal(t, "A", answeredBy("4111111111111111"))
	assert.Equal(t, "C", answeredBy("5100000000000008"))
	require.NoError(t, sw.Await(wctx, func() bool { return sw.IssuerLinksUp("bank-b") == -1 }))

	// 4. An invalid file is rejected; the running config keeps serving.
	write(conf("a,c", `{bin: "4x", issuer: bank-a}`, `{bin: "5", issuer: bank-c}`))
	reloaded(3, 1)
	load.flowing(t, 50)
	assert.Equal(t, "A", answeredBy("4111111111111111"))

	// 5. Same content again (new file, same hash): nothing happens.
	write(conf("a,c", `{bin: "4", issuer: bank-a}`, `{bin: "5", issuer: bank-c}`))
	res, err := sw.Reload(wctx)
	require.NoError(t, err)
	assert.False(t, res.Changed)

	// 6. A last move, by rename, to prove the watch survived the others.
	write(conf("a,c", `{bin: "4", issuer: bank-c}`, `{bin: "5", issuer: bank-c}`))
	reloaded(4, 1)
	load.flowing(t, 50)
	assert.Equal(t, "C", answeredBy("4111111111111111"))

	close(stop)
	wg.Wait()
	load.mu.Lock()
	defer load.mu.Unlock()
	assert.Empty(t, load.errs, "every request got an answer")
	assert.Equal(t, load.sent.Load(), load.answered.Load())
	assert.Equal(t, int(load.answered.Load()), load.codes["00"], "all approved, none 96 or 91: %v", load.codes)
}
