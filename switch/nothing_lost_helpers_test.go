package switchd_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/keyfile"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/journal"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/require"
)

// lostDeadline bounds every wait in the "nothing lost" tests. Retries run
// at 50ms..500ms, so this is generous; it only turns a hang into a failure.
const lostDeadline = 30 * time.Second

// lostYAML is a switch with one issuer "bank" (BIN 4) at simAddr, a second
// issuer "down" (BIN 5) at downAddr, and the journal at path.
func lostYAML(path, simAddr, timeout, downAddr string) string {
	y := "issuers:\n" + issuerYAML("bank", timeout, simAddr)
	routes := "routes:\n  - bin: \"4\"\n    issuer: bank\n"
	if downAddr != "" {
		y += issuerYAML("down", timeout, downAddr)
		routes += "  - bin: \"5\"\n    issuer: down\n"
	}
	return y + routes + fmt.Sprintf(`journal:
  path: %q
reversals:
  retry_min: 50ms
  retry_max: 500ms
`, path)
}

func journalPath(t testing.TB) string { return filepath.Join(t.TempDir(), "journal.db") }

// simLog records every request a simulator receives and lets a test wait
// for a condition on them, re-checked after each request (no polling).
type simLog struct {
	mu      sync.Mutex
	reqs    []issuersim.Request
	changed chan struct{}
}

// startWatchedSim is startSim with the recorder installed before Serve, so
// not even the first request of the first link escapes it.
func startWatchedSim(t testing.TB, sc config.Simulator) (*issuersim.Sim, *simLog) {
	t.Helper()
	if sc.Listen == "" {
		sc.Listen = "127.0.0.1:0"
	}
	sim, err := issuersim.New(sc, testLog(t))
	require.NoError(t, err)
	l := watchSim(sim)
	done := make(chan struct{})
	go func() { defer close(done); _ = sim.Serve() }()
	t.Cleanup(func() { _ = sim.Close(); <-done })
	return sim, l
}

func watchSim(sim *issuersim.Sim) *simLog {
	l := &simLog{changed: make(chan struct{}, 1)}
	sim.OnRequest(func(r issuersim.Request) {
		l.mu.Lock()
		l.reqs = append(l.reqs, r)
		l.mu.Unlock()
		select {
		case l.changed <- struct{}{}:
		default:
		}
	})
	return l
}

func (l *simLog) snapshot() []issuersim.Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]issuersim.Request(nil), l.reqs...)
}

// wait returns once cond holds for the requests seen so far.
func (l *simLog) wait(t testing.TB, what string, cond func([]issuersim.Request) bool) []issuersim.Request {
	t.Helper()
	deadline := time.NewTimer(lostDeadline)
	defer deadline.Stop()
	for {
		if rs := l.snapshot(); cond(rs) {
			return rs
		}
		select {
		case <-l.changed:
		case <-deadline.C:
			t.Fatalf("simulator: gave up waiting for %s; saw %d requests", what, len(l.snapshot()))
		}
	}
}

// reversalAttempts counts reversal attempts (0420, 0400 and their repeats
// 0421, 0401) per field 90.
func reversalAttempts(rs []issuersim.Request) map[string]int {
	n := map[string]int{}
	for _, r := range rs {
		if r.MTI[1] == '4' && r.MTI[2] != '3' && r.MTI[2] != '1' {
			n[r.Original]++
		}
	}
	return n
}

// answeredAtLeast: at least want distinct reversals reached attempt drop+1,
// the one the simulator answers.
func answeredAtLeast(want, drop int) func([]issuersim.Request) bool {
	return func(rs []issuersim.Request) bool {
		got := 0
		for _, n := range reversalAttempts(rs) {
			if n > drop {
				got++
			}
		}
		return got >= want
	}
}

// openJournal opens the journal read-only (safe while a switch writes it),
// with the key the switch created beside it, if any.
func openJournal(t testing.TB, path string) *journal.Journal {
	t.Helper()
	j, err := journal.OpenReadOnly(path, switchKeys(t, path)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	return j
}

// awaitNoReversalsOwed polls the journal: the switch records an issuer's
// 0430 after the simulator sent it, and nothing outside the switch can be
// told when that write lands.
func awaitNoReversalsOwed(t testing.TB, path string) {
	t.Helper()
	j := openJournal(t, path)
	require.Eventually(t, func() bool {
		n, err := j.ReversalCount()
		return err == nil && n == 0
	}, lostDeadline, 10*time.Millisecond, "reversals still owed")
}

// entriesByRRN lists journal entries (newest first) keyed by RRN.
func entriesByRRN(t testing.TB, path string) map[string][]journal.Entry {
	t.Helper()
	es, err := openJournal(t, path).List(context.Background(), journal.Filter{Limit: 1 << 20})
	require.NoError(t, err)
	out := map[string][]journal.Entry{}
	for _, e := range es {
		out[e.RRN] = append(out[e.RRN], e)
	}
	return out
}

// field90 reads field 90 of a stored reversal frame.
func field90(t testing.TB, frame []byte) string {
	t.Helper()
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	var v iso.View
	require.NoError(t, sc.Scan(frame, &v))
	return string(v.Field(90))
}

// switchKeys reads the key file a switch created beside the journal at
// path (none: no keys).
func switchKeys(t testing.TB, path string) [][32]byte {
	t.Helper()
	ks, err := keyfile.Load(path + switchd.KeyFileSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	out := make([][32]byte, len(ks))
	for i := range ks {
		out[i] = ks[i]
	}
	return out
}
