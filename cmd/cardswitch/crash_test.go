package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/keyfile"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/journal"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Crash safety of the real binary: SIGTERM under load answers every
// request, and after kill -9 the journal holds every answer a client saw
// and the restarted switch delivers every reversal still owed.

const crashDeadline = 30 * time.Second

// crashSim is an issuer simulator in the test process (it outlives the
// switch processes) that records what it receives.
type crashSim struct {
	*issuersim.Sim
	mu      sync.Mutex
	reqs    []issuersim.Request
	changed chan struct{}
}

func startCrashSim(t *testing.T, sc config.Simulator) *crashSim {
	t.Helper()
	if sc.Listen == "" {
		sc.Listen = "127.0.0.1:0"
	}
	sc.Name = "bank"
	sim, err := issuersim.New(sc, nil)
	require.NoError(t, err)
	s := &crashSim{Sim: sim, changed: make(chan struct{}, 1)}
	sim.OnRequest(func(r issuersim.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r)
		s.mu.Unlock()
		select {
		case s.changed <- struct{}{}:
		default:
		}
	})
	done := make(chan struct{})
	go func() { defer close(done); _ = sim.Serve() }()
	t.Cleanup(func() { _ = sim.Close(); <-done })
	return s
}

// wait returns once cond holds for the requests received so far.
func (s *crashSim) wait(t *testing.T, what string, cond func([]issuersim.Request) bool) []issuersim.Request {
	t.Helper()
	deadline := time.NewTimer(crashDeadline)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		rs := append([]issuersim.Request(nil), s.reqs...)
		s.mu.Unlock()
		if cond(rs) {
			return rs
		}
		select {
		case <-s.changed:
		case <-deadline.C:
			t.Fatalf("simulator: gave up waiting for %s (%d requests seen)", what, len(rs))
		}
	}
}

func count(mti string, n int) func([]issuersim.Request) bool {
	return func(rs []issuersim.Request) bool {
		k := 0
		for _, r := range rs {
			if r.MTI == mti {
				k++
			}
		}
		return k >= n
	}
}

// crashYAML: a close linger far longer than any test, so that at SIGTERM an
// acquirer that is slow to send its next request still gets its 91 instead
// of a closed connection; the load clients close their connections after
// their 91, which ends the linger. The port is the kernel's (tests read it
// from the log): a restarted switch need not have the same one.
func crashYAML(journalPath, simAddr, timeout string) string {
	return fmt.Sprintf(`listen:
  address: 127.0.0.1:0
  shutdown_timeout: 5s
  close_linger: 30s
admin: {address: ""}
issuers:
  - name: bank
    endpoints: [%s]
    timeout: %s
    connect_timeout: 2s
    reconnect_min: 10ms
    reconnect_max: 100ms
routes:
  - bin: "4"
    issuer: bank
journal:
  path: %q
reversals:
  retry_min: 50ms
  retry_max: 500ms
`, simAddr, timeout, journalPath)
}

// answer is what a client saw for one request it sent.
type answer struct {
	STAN, RRN, Terminal, Code string
}

// loadClient sends 0100s one at a time on a raw connection (not moov's
// client: a reply racing a close must count against the switch, not the
// library) and records every answer. pan picks the card of request seq
// ("" ends the client).
type loadClient struct {
	id       int
	answers  []answer
	sent     int
	lastErr  error
	stopAt91 bool // SIGTERM test: an acquirer told 91 while draining stops
}

func (c *loadClient) run(addr string, pan func(seq int) string) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		c.lastErr = err
		return
	}
	defer conn.Close()
	fr := iso.NewFrameReader(conn, 65535)
	sc, _ := iso.NewScanner(iso.Spec87())
	var v iso.View
	for seq := 1; ; seq++ {
		card := pan(seq)
		if card == "" { // this client is done
			return
		}
		stan := c.id*100000 + seq
		req := acqclient.Request{PAN: card, Amount: 100, STAN: stan, RRN: fmt.Sprintf("%012d", stan),
			Terminal: fmt.Sprintf("TERM%04d", c.id)}
		m, _ := req.Message()
		body, _ := m.Pack()
		if c.lastErr = iso.WriteFrame(conn, body); c.lastErr != nil {
			return
		}
		c.sent++
		_ = conn.SetReadDeadline(time.Now().Add(crashDeadline))
		resp, err := fr.Next()
		if err != nil {
			c.lastErr = err
			return
		}
		if err := sc.Scan(resp, &v); err != nil {
			c.lastErr = err
			return
		}
		a := answer{STAN: string(v.Field(11)), RRN: string(v.Field(37)), Terminal: string(v.Field(41)),
			Code: string(v.Field(39))}
		c.answers = append(c.answers, a)
		if c.stopAt91 && a.Code == "91" {
			return
		}
	}
}

func runClients(addr string, n int, stopAt91 bool, pan func(seq int) string) (all []*loadClient, wait func()) {
	return runClientsFrom(addr, 1, n, stopAt91, pan)
}

// runClientsFrom is runClients with the clients numbered from first (their
// STANs and RRNs start with their number: clients on several switches
// stay apart).
func runClientsFrom(addr string, first, n int, stopAt91 bool, pan func(seq int) string) (all []*loadClient, wait func()) {
	var wg sync.WaitGroup
	for i := first; i < first+n; i++ {
		c := &loadClient{id: i, stopAt91: stopAt91}
		all = append(all, c)
		wg.Add(1)
		go func() { defer wg.Done(); c.run(addr, pan) }()
	}
	return all, wg.Wait
}

// c. SIGTERM in the middle of a load: every request sent is answered (00,
// or 91 once draining), each answer is journaled, and the exit status is 0.
func TestSIGTERMUnderLoadAnswersEveryRequest(t *testing.T) {
	sim := startCrashSim(t, config.Simulator{Rules: []config.SimRule{{PANSuffix: "0007", Delay: 300 * time.Millisecond}}})
	path := filepath.Join(t.TempDir(), "journal.db")
	p := startServe(t, "--config", writeFile(t, "c.yaml", crashYAML(path, sim.Addr(), "5s")))
	addr := p.waitLog(t, "cardswitch listening", nil)["addr"].(string)
	p.waitLog(t, "issuer link up", nil)

	clients, wait := runClients(addr, 4, true, func(seq int) string {
		if seq%5 == 0 {
			return "4111111111110007" // delayed: in flight when SIGTERM lands
		}
		return "4111111111111111"
	})
	sim.wait(t, "load flowing", count("0100", 200))
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	wait()
	err := <-p.done
	p.done <- err
	require.NoError(t, err, "exit status")

	j, err := journal.OpenReadOnly(path)
	require.NoError(t, err)
	defer j.Close()
	for _, c := range clients {
		require.Equal(t, c.sent, len(c.answers), "client %d: %d sent, %d answered (last error %v)",
			c.id, c.sent, len(c.answers), c.lastErr)
		for i, a := range c.answers {
			if i < len(c.answers)-1 {
				assert.Equal(t, "00", a.Code, "client %d request %d", c.id, i+1)
			} else {
				assert.Contains(t, []string{"00", "91"}, a.Code)
			}
		}
	}
	t.Run("answers from the issuer are journaled", func(t *testing.T) {
		for _, c := range clients {
			assertJournaled(t, j, c.id, only(c.answers, "00"))
		}
	})
	// The switch's own 91s while draining must be journaled too. This fails
	// while shutdown closes the journal before the linger in which they are
	// answered ("journal write failed: journal: closed").
	t.Run("91s while draining are journaled", func(t *testing.T) {
		for _, c := range clients {
			assertJournaled(t, j, c.id, only(c.answers, "91"))
		}
	})
}

func only(as []answer, code string) []answer {
	var out []answer
	for _, a := range as {
		if a.Code == code {
			out = append(out, a)
		}
	}
	return out
}

// d. kill -9 in the middle of a load, then a restart on the same journal:
// every answer a client saw is in the journal with the code it saw, and
// every reversal owed at the restart is delivered.
func TestKill9JournalHasEveryAnswerAndReversalsResume(t *testing.T) {
	const drop = 2
	sim := startCrashSim(t, config.Simulator{ReversalDrop: drop, Rules: []config.SimRule{
		{PANSuffix: "0051", Code: "51"}, {PANSuffix: "0009", NoAnswer: true},
	}})
	path := filepath.Join(t.TempDir(), "journal.db")
	cfg := writeFile(t, "d.yaml", crashYAML(path, sim.Addr(), "300ms"))
	p1 := startServe(t, "--config", cfg)
	addr := p1.waitLog(t, "cardswitch listening", nil)["addr"].(string)
	p1.waitLog(t, "issuer link up", nil)

	clients, wait := runClients(addr, 4, false, func(seq int) string {
		switch seq % 7 {
		case 0:
			return "4111111111110009" // timeout: 91, and a reversal owed
		case 3:
			return "4111111111110051"
		}
		return "4111111111111111"
	})
	rs := sim.wait(t, "load flowing", count("0100", 300))
	// Kill right after a reversal attempt: reversals are in every state then
	// (just stored, attempted and dropped, in flight).
	sim.wait(t, "a reversal attempt", count("0420", len(reversalAttemptsOf(rs))+1))
	require.NoError(t, p1.cmd.Process.Kill())
	wait()
	<-p1.done
	p1.done <- nil

	p2 := startServe(t, "--config", cfg)
	owed := p2.waitLog(t, "journal open", nil)["reversals_owed"]
	require.Greater(t, owed, float64(0), "the kill came right after a first reversal attempt")
	j, err := journal.OpenReadOnly(path, createdKeys(t, path)...)
	require.NoError(t, err)
	defer j.Close()
	pending, err := j.PendingReversals()
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		n, err := j.ReversalCount()
		return err == nil && n == 0
	}, crashDeadline, 10*time.Millisecond, "reversals still owed after the restart")
	attempts := map[string]int{}
	for _, r := range reversalAttemptsOf(sim.wait(t, "", func([]issuersim.Request) bool { return true })) {
		attempts[r.Original]++
	}
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	for _, rv := range pending {
		var v iso.View
		require.NoError(t, sc.Scan(rv.Frame, &v))
		assert.Greater(t, attempts[string(v.Field(90))], drop, "reversal %d (rrn %s) answered by the issuer", rv.ID, rv.RRN)
	}
	total := 0
	for _, c := range clients {
		total += len(c.answers)
		assertJournaled(t, j, c.id, c.answers)
	}
	require.Positive(t, total)
	t.Logf("%d answers before the kill; %d reversals owed at the restart", total, len(pending))
}

func reversalAttemptsOf(rs []issuersim.Request) []issuersim.Request {
	var out []issuersim.Request
	for _, r := range rs {
		if r.MTI == "0420" || r.MTI == "0421" { // a retry is a repeat, 0421
			out = append(out, r)
		}
	}
	return out
}

// assertJournaled: each answer is in the journal as the 0100 entry of its
// RRN, with the STAN, terminal and code the client saw. An issuer answer
// that came after the timeout is journaled beside it as outcome late (on a
// loaded machine a 51 can miss the 300 ms timeout): it is not the answer.
func assertJournaled(t *testing.T, j interface {
	List(context.Context, journal.Filter) ([]journal.Entry, error)
}, client int, answers []answer) {
	t.Helper()
	for _, a := range answers {
		es, err := j.List(context.Background(), journal.Filter{RRN: a.RRN})
		require.NoError(t, err)
		var found []string
		for _, e := range es {
			if e.MTI == "0100" && e.STAN == a.STAN && e.Terminal == a.Terminal && e.Outcome != journal.Late {
				found = append(found, e.ResponseCode)
			}
		}
		assert.Equal(t, []string{a.Code}, found, "client %d rrn %s: journaled codes", client, a.RRN)
	}
}

// createdKeys reads the key file the switch created beside the journal at
// path: the stored reversals' frames are encrypted with it.
func createdKeys(t *testing.T, path string) [][32]byte {
	t.Helper()
	ks, err := keyfile.Load(path + switchd.KeyFileSuffix)
	require.NoError(t, err)
	out := make([][32]byte, len(ks))
	for i := range ks {
		out[i] = ks[i]
	}
	return out
}
