package switchd_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/issuersim"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The overload tests: the switch-wide and per-issuer in-flight caps answer
// the excess 91 at once and give every slot back, and reversals of one
// issuer go out at a bounded rate. They assert counts, never timings.

// heldSim is a simulator that holds its answers to 0100s until release:
// its observer blocks the link's read goroutine, so every request behind
// the first waits unread in the socket. seen counts the 0100s it read.
type heldSim struct {
	*issuersim.Sim
	seen    atomic.Int64
	gate    chan struct{}
	release func()
}

func startHeldSim(t testing.TB) *heldSim {
	t.Helper()
	sim, err := issuersim.New(config.Simulator{Name: "held", Listen: "127.0.0.1:0"}, testLog(t))
	require.NoError(t, err)
	h := &heldSim{Sim: sim, gate: make(chan struct{})}
	var once sync.Once
	h.release = func() { once.Do(func() { close(h.gate) }) }
	sim.OnRequest(func(r issuersim.Request) {
		if r.MTI == "0100" {
			h.seen.Add(1)
			<-h.gate
		}
	})
	done := make(chan struct{})
	go func() { defer close(done); _ = sim.Serve() }()
	t.Cleanup(func() { _ = sim.Close(); <-done })
	t.Cleanup(h.release) // runs first: a failed test must not leave the simulator blocked
	return h
}

// awaitInFlight waits until the switch's in-flight counts (switch-wide,
// and the issuer's) are what the test expects. The switch gives a slot
// back right after queueing the answer, so an acquirer may read its answer
// a moment before: polled, not slept.
func awaitInFlight(t testing.TB, sw *running, issuerName string, want int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		return sw.InFlight() == want && sw.IssuerInFlight(issuerName) == want
	}, 10*time.Second, time.Millisecond, "in flight: switch %d, %s %d; want %d",
		sw.InFlight(), issuerName, sw.IssuerInFlight(issuerName), want)
}

const panHealthy = "5555555555554444"

// a. With listen.max_in_flight_total N, of N+k requests to an issuer that
// holds its answers exactly k are answered 91 at once, whatever connection
// they come on; the N others are relayed once each, answered when the
// issuer answers, and the counts go back to 0.
func TestSwitchWideInFlightCap(t *testing.T) {
	sim := startHeldSim(t)
	const n, k = 4, 3
	// The issuer's own cap well above: only the switch-wide one is tested.
	sw := startSwitch(t, "listen: {max_in_flight_total: 4}\nissuers:\n"+issuerYAML("bank", "30s", sim.Addr())+
		"    max_in_flight: 100\nroutes:\n  - {bin: \"4\", issuer: bank}\n", "bank")
	held := []*rawConn{dialRaw(t, sw.addr), dialRaw(t, sw.addr)}
	for i := range n {
		held[i%2].write(t, pack(t, auth(panApprove, 100, i+1)))
	}
	awaitInFlight(t, sw, "bank", n)

	over := dialRaw(t, sw.addr)
	for i := range k {
		over.write(t, pack(t, auth(panApprove, 100, 100+i)))
	}
	for range k {
		_, code := answer(t, over)
		assert.Equal(t, "91", code, "past the switch-wide cap: 91 at once")
	}
	assert.EqualValues(t, n, sw.InFlight(), "the refused requests hold no slot")

	sim.release()
	for i := range n {
		_, code := answer(t, held[i%2])
		assert.Equal(t, "00", code, "admitted requests are relayed and answered by the issuer")
	}
	awaitInFlight(t, sw, "bank", 0)
	assert.EqualValues(t, n, sim.seen.Load(), "each admitted request reached the issuer once, no refused one did")
}

// b. A slow issuer at its own cap (issuers[].max_in_flight) leaves the
// rest of the switch-wide cap to a healthy issuer: every healthy request,
// on the same connection as the slow ones and on another, is answered by
// its issuer.
func TestSlowIssuerAtItsCapSparesHealthyIssuer(t *testing.T) {
	slow := startHeldSim(t)
	healthy := startSim(t, config.Simulator{})
	sw := startSwitch(t, `listen: {max_in_flight_total: 16, max_in_flight: 32}
issuers:
`+issuerYAML("slow", "30s", slow.Addr())+"    max_in_flight: 4\n"+issuerYAML("healthy", "30s", healthy.Addr())+`routes:
  - {bin: "4", issuer: slow}
  - {bin: "5", issuer: healthy}
`, "slow", "healthy")
	shared, other := dialRaw(t, sw.addr), dialRaw(t, sw.addr)
	// Enough to fill the switch-wide cap, were the slow issuer not held to
	// its own.
	for i := range 16 {
		shared.write(t, pack(t, auth(panApprove, 100, i+1)))
	}
	for range 12 {
		_, code := answer(t, shared)
		require.Equal(t, "91", code, "past the slow issuer's cap: 91 at once")
	}
	awaitInFlight(t, sw, "slow", 4)

	for i := range 8 {
		c := shared
		if i%2 == 1 {
			c = other
		}
		c.write(t, pack(t, auth(panHealthy, 100, 100+i)))
	}
	for i := range 8 {
		c := shared
		if i%2 == 1 {
			c = other
		}
		m := c.read(t)
		assert.Equal(t, "00", str(t, m, 39), "a healthy issuer's request is answered by it")
		assert.True(t, m.Bitmap().IsSet(38), "with the issuer's approval code: not a switch answer")
	}
	assert.EqualValues(t, 8, healthy.Stats().Approved, "every healthy request reached its issuer")

	slow.release()
	for range 4 {
		_, code := answer(t, shared)
		assert.Equal(t, "00", code)
	}
	awaitInFlight(t, sw, "slow", 0)
	awaitInFlight(t, sw, "healthy", 0)
}

// After a burst of every outcome — answered, declined by the switch,
// refused at a cap, timed out, answered late, and lost with the link —
// every in-flight count is back to 0: no finish path keeps a slot.
func TestInFlightCountsReturnToZeroAfterMixedOutcomes(t *testing.T) {
	sim := startSim(t, config.Simulator{Rules: []config.SimRule{
		{PANSuffix: "0051", Code: "51"},
		{PANSuffix: "0009", NoAnswer: true},
		{PANSuffix: "0007", Delay: 300 * time.Millisecond},
	}})
	held := startHeldSim(t)
	path := journalPath(t)
	sw := startSwitch(t, `listen: {max_in_flight_total: 12}
issuers:
`+issuerYAML("bank", "100ms", sim.Addr())+issuerYAML("held", "30s", held.Addr())+"    max_in_flight: 2\n"+
		issuerYAML("down", "1s", deadAddr(t))+`routes:
  - {bin: "4", issuer: bank}
  - {bin: "5", issuer: held}
  - {bin: "6", issuer: down}
journal:
  path: "`+path+`"
reversals: {retry_min: 50ms, retry_max: 500ms}
`, "bank", "held")
	c := dialRaw(t, sw.addr)
	pans := []string{panApprove, panDecline, panSilent, panLate, panHealthy, panHealthy, panHealthy, panNoRoute}
	first := pack(t, auth(pans[0], 100, 1))
	c.write(t, first)
	for i, p := range pans[1:] {
		c.write(t, pack(t, auth(p, 100, i+2)))
	}
	c.write(t, first) // a retransmission: 94
	codes := map[string]int{}
	for range len(pans) - 1 { // all but the two the held issuer holds, and the 94
		_, code := answer(t, c)
		codes[code]++
	}
	closed := make(chan error, 1)
	go func() { closed <- held.Close() }() // the link is lost with two requests on it
	for range 2 {
		_, code := answer(t, c)
		codes[code]++
	}
	held.release() // lets the simulator's blocked read goroutine end
	require.NoError(t, <-closed)
	assert.Equal(t, map[string]int{"00": 1, "51": 1, "94": 1, "91": 6}, codes,
		"91: timeout, late, issuer cap, issuer down, and two with the link lost")
	awaitInFlight(t, sw, "bank", 0)
	awaitInFlight(t, sw, "held", 0)
}

// c. Reversals of one issuer go out at no more than reversals.rate per
// second: with the rate limiter's clock frozen, exactly the burst goes
// out, however many passes the manager makes; each second the clock moves
// lets exactly rate more go; and every original is reversed in the end.
func TestReversalsSentAtBoundedRate(t *testing.T) {
	sim, log := startWatchedSim(t, config.Simulator{Name: "bank", Rules: []config.SimRule{
		{PANSuffix: "0009", NoAnswer: true},
	}})
	clock := newFakeClock()
	passes := make(chan struct{}, 1)
	// A timeout long enough that the simulator's 0430s come within it even
	// on a loaded machine: a retry would be legitimate, but is not what
	// this test counts.
	cfg := opsLoad(t, "issuers:\n"+issuerYAML("bank", "1s", sim.Addr())+`routes:
  - {bin: "4", issuer: bank}
journal:
  path: "`+journalPath(t)+`"
reversals: {retry_min: 20ms, retry_max: 100ms, rate: 5}
`)
	sw := opsRun(t, cfg, switchd.WithReversalClock(clock.now), switchd.WithReversalPass(func() {
		select {
		case passes <- struct{}{}:
		default:
		}
	}))
	opsWaitUp(t, sw, "bank")
	const timeouts = 20
	c := dialRaw(t, sw.addr)
	for i := range timeouts {
		c.write(t, pack(t, auth(panSilent, 100, i+1)))
	}
	for range timeouts {
		_, code := answer(t, c)
		require.Equal(t, "91", code)
	}
	reversals := func(rs []issuersim.Request) int { return len(rs) - countMTI(rs, "0100") - countMTI(rs, "0800") }
	awaitPasses := func() {
		for range 3 { // a pass that began before the last send may have been under way: two more are whole
			select {
			case <-passes:
			case <-time.After(lostDeadline):
				t.Fatal("the reversal manager made no pass")
			}
		}
	}
	for step, want := range []int{5, 10, 15} {
		log.wait(t, "reversals of this second", func(rs []issuersim.Request) bool { return reversals(rs) >= want })
		awaitPasses()
		assert.EqualValues(t, want, sw.ReversalsSent(), "step %d: no more than burst + rate × seconds", step)
		assert.Equal(t, want, reversals(log.snapshot()), "step %d: the issuer got no more", step)
		clock.advance(time.Second)
	}
	clock.run() // the rest at the rate, retries too should any be needed
	rs := log.wait(t, "every reversal", func(rs []issuersim.Request) bool { return reversals(rs) >= timeouts })
	assert.Len(t, reversalAttempts(rs), timeouts, "every timed-out original reversed")
	assert.GreaterOrEqual(t, sw.ReversalsSent(), int64(reversals(rs)), "the issuer got only what the switch sent")
	awaitInFlight(t, sw, "bank", 0)
}

func countMTI(rs []issuersim.Request, mti string) int {
	n := 0
	for _, r := range rs {
		if r.MTI == mti {
			n++
		}
	}
	return n
}

// fakeClock is the reversal rate limiter's clock: it moves only when the
// test says, until run lets it go on with real time.
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	running time.Time // when run was called; zero: stopped
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running.IsZero() {
		return c.t.Add(time.Since(c.running))
	}
	return c.t
}

func (c *fakeClock) run() {
	c.mu.Lock()
	c.running = time.Now()
	c.mu.Unlock()
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
