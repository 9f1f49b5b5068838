package issuer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/switch/internal/wire"
	"github.com/moov-io/iso8583"
)

// LinkConfig describes one persistent connection to one issuer endpoint.
type LinkConfig struct {
	Issuer string
	Addr   string
	// Conn tells the links to one endpoint apart (issuers[].connections):
	// 1 to connections; 0 counts as 1.
	Conn           int
	Timeout        time.Duration // wait for a response before failing the request
	EchoInterval   time.Duration // idle time before an 0800/301 echo; 0 disables
	ConnectTimeout time.Duration // dial plus sign-on
	ReconnectMin   time.Duration // first backoff after a failure, doubled up to ReconnectMax
	ReconnectMax   time.Duration
	MaxFrame       int // largest response frame accepted
	// MaxInFlight bounds the requests pending on this link; past it Send
	// refuses (the switch tries another link or answers 91) instead of
	// queueing without bound.
	MaxInFlight int
	// WriteBacklog bounds the bytes queued for the issuer's socket.
	WriteBacklog int

	// TLS is the issuer's tls section as configured (nil: plain TCP); the
	// dialer applies it, a reload compares it.
	TLS *config.ClientTLS

	// STANSpace is how many STANs the link hands out (1 to STANSpace);
	// 0 means all of them, 999,999. Only tests set it, to make the STANs
	// wrap after a few requests.
	STANSpace int
	// LateGrace is added to twice the timeout for how long a timed-out
	// request is remembered at least (see lateFloor); 0 means 10 s. Only
	// tests set it.
	LateGrace time.Duration

	// Dialect is how the issuer speaks: the link frames with its Framing
	// and, when Translator is set (a dialect that is not canonical),
	// translates every message it writes from the canonical form and every
	// one it reads to it. The switch's side of the link is canonical.
	Dialect    iso.Dialect
	Translator *iso.Translator
	// OnTranslate, when set, is called for every message the link
	// translates (failed: one that could not be), from the goroutine that
	// did: the switch counts them per issuer and dialect.
	OnTranslate func(failed bool)

	Spec    *iso8583.MessageSpec
	Scanner *iso.Scanner
	Log     *slog.Logger
	Dial    func(ctx context.Context, addr string) (net.Conn, error)
	// Gate, when set, is the link writer's gate (wire.Writer.SetGate):
	// called with the highest Recorder ticket of a batch before the batch
	// is written.
	Gate func(ticket uint64)
	// OnState is called (from the link's goroutine) when the link goes up
	// or down.
	OnState func(l *Link, up bool)
	// Health, when set, is the issuer's availability the link reports
	// its timeouts and answers to (shared by the issuer's links).
	Health *Health
	// Direct is which held bursts are written by the goroutine that
	// queued them (wire.Direct): with DirectRequests the link's writer
	// lets an acquirer's reader write its burst (wire.Writer.SetDirect);
	// with DirectOne the link's reader writes one acquirer connection's
	// answers per read itself, at most (wire.Held.One).
	Direct wire.Direct
}

// Link is one persistent, monitored connection to an issuer endpoint. It
// connects, signs on, echoes when idle, and reconnects with backoff after
// any failure until its context ends.
type Link struct {
	cfg   LinkConfig
	up    atomic.Bool
	epoch time.Time

	mu      sync.Mutex
	out     *wire.Writer // nil while down
	conn    net.Conn
	pending map[uint32]*Txn
	fifo    deadlineQueue
	stans   stanSet // the STANs held by pending and remembered requests
	seq     uint64

	// held: the writers the read goroutine queued answers to and has not
	// woken yet (HeldOwner); it writes them itself when their writers
	// allow it (LinkConfig.Direct). Only the read goroutine touches it.
	held wire.Held

	lastRx atomic.Int64 // nanoseconds since epoch of the last frame received (frames read in one batch share a stamp)
	// What the status page shows besides up (Status), in nanoseconds
	// since epoch: off the request path, written on state changes and
	// echoes only.
	since     atomic.Int64 // the last time the link went up or down; 0: created then, never up
	lastEcho  atomic.Int64 // the last echo answered; 0: none yet
	signingOn atomic.Bool  // connected, its sign-on not answered yet

	// Timing a reload may change on a live link (see SetTiming).
	timeout atomic.Int64 // time.Duration
	echo    atomic.Int64 // time.Duration

	idle []chan struct{} // WaitIdle waiters, closed when pending empties; l.mu
	// late keeps timed-out requests for their window (see forgetLate),
	// so that an answer that comes after the timeout is recognised (and
	// journaled as late), and their STANs stay held meanwhile. l.mu
	late      map[uint32]*Txn
	lateOrder []lateItem // late's entries in time-out order, for the sweep
	lateHead  int
	latePeak  int // the most entries late has had since it was last made anew

	framing iso.Framing // how frames go out (writeFraming)
	sendBuf []byte      // Send's translation buffer; l.mu
	// ansCarry is what the read loop's translation of the frame it is
	// handling remembered (a 1993 issuer's own values); the read loop's.
	ansCarry iso.Carry
}

// linkTPDU is the TPDU the switch sends an issuer whose dialect has one:
// the switch is not a terminal and has no NII of its own, so both are 0.
var linkTPDU = []byte{0x60, 0, 0, 0, 0}

// writeFraming is f with the header the link sends: a TPDU is linkTPDU.
func writeFraming(f iso.Framing) iso.Framing {
	if f.Header == iso.HeaderTPDU {
		f.Fixed = linkTPDU
	}
	return f
}

// lateItem is a request that timed out at at (l.now); seq tells it from a
// later request under the same STAN.
type lateItem struct {
	stan uint32
	seq  uint64
	at   int64
}

// lateFloor is how long a timed-out request is remembered at least: twice
// the timeout plus a grace (10 s unless a test shrinks it), within which
// an issuer's late answer normally comes.
func lateFloor(timeout, grace time.Duration) int64 {
	if grace <= 0 {
		grace = 10 * time.Second
	}
	return int64(2*timeout + grace)
}

// lateMax is how long a timed-out request is remembered at most: a quiet
// link does not keep requests (and their frames) for ever.
const lateMax = 10 * time.Minute

// lateOrderSlack is how far lateOrder may run ahead of late (entries
// whose late answer came, or whose STAN timed out again) before it is
// compacted.
const lateOrderSlack = 1024

// ErrBusy: the link has MaxInFlight requests pending.
var ErrBusy = errors.New("issuer link at its in-flight limit")

// NewLink returns a link; Run connects it.
func NewLink(cfg LinkConfig) *Link {
	space := uint32(maxSTAN)
	if cfg.STANSpace > 0 && cfg.STANSpace < maxSTAN {
		space = uint32(cfg.STANSpace) // #nosec G115 -- below maxSTAN
	}
	l := &Link{cfg: cfg, epoch: time.Now(), pending: make(map[uint32]*Txn), late: make(map[uint32]*Txn),
		stans: newSTANSet(space), framing: writeFraming(cfg.Dialect.Framing)}
	l.held.One = cfg.Direct&wire.DirectOne != 0
	l.SetTiming(cfg.Timeout, cfg.EchoInterval)
	return l
}

// SetTiming changes the response timeout and echo interval of a live link
// (a reload changed them): requests already pending keep their deadline.
func (l *Link) SetTiming(timeout, echo time.Duration) {
	l.timeout.Store(int64(timeout))
	l.echo.Store(int64(echo))
}

// Config returns the link's configuration with its current timing.
func (l *Link) Config() LinkConfig {
	c := l.cfg
	c.Timeout, c.EchoInterval = time.Duration(l.timeout.Load()), time.Duration(l.echo.Load())
	return c
}

// WaitIdle returns when no request is pending on the link, or ctx ends.
// Draining a removed issuer waits on it before closing the link.
func (l *Link) WaitIdle(ctx context.Context) error {
	l.mu.Lock()
	if len(l.pending) == 0 {
		l.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	l.idle = append(l.idle, ch)
	l.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// notifyIdle wakes WaitIdle callers once nothing is pending. l.mu held.
func (l *Link) notifyIdle() {
	if len(l.pending) == 0 && len(l.idle) > 0 {
		for _, ch := range l.idle {
			close(ch)
		}
		l.idle = nil
	}
}

// Addr is the endpoint's address.
func (l *Link) Addr() string { return l.cfg.Addr }

// Conn is which of its endpoint's links l is, from 1.
func (l *Link) Conn() int { return max(l.cfg.Conn, 1) }

// Up reports whether the link is signed on and usable.
func (l *Link) Up() bool { return l.up.Load() }

// InFlight is the number of requests waiting for the issuer on this link.
func (l *Link) InFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

func (l *Link) now() int64 { return int64(time.Since(l.epoch)) }

// Run keeps the link connected until ctx ends; then it signs off, fails
// whatever is still pending with ErrLinkLost and returns.
func (l *Link) Run(ctx context.Context) {
	backoff := l.cfg.ReconnectMin
	for {
		wasUp, err := l.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if wasUp {
			backoff = l.cfg.ReconnectMin
		}
		l.cfg.Log.Warn("issuer link down", "issuer", l.cfg.Issuer, "endpoint", l.cfg.Addr, "conn", l.Conn(),
			"err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, l.cfg.ReconnectMax)
	}
}

// session runs one connection from dial to failure.
func (l *Link) session(ctx context.Context) (wasUp bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, l.cfg.ConnectTimeout)
	conn, err := l.cfg.Dial(dctx, l.cfg.Addr)
	cancel()
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	out := wire.NewWriter(conn, l.cfg.WriteBacklog)
	out.SetFraming(l.framing)
	if l.cfg.Direct&wire.DirectRequests != 0 {
		out.SetDirect()
	}
	if l.cfg.Gate != nil {
		out.SetGate(l.cfg.Gate)
		out.SetVet(l.vet)
	}
	l.mu.Lock()
	l.conn, l.out = conn, out
	l.mu.Unlock()
	l.lastRx.Store(l.now())

	writeDone := make(chan error, 1)
	go func() { writeDone <- out.Run() }()
	readDone := make(chan error, 1)
	readExit := make(chan struct{})
	go func() {
		defer close(readExit)
		readDone <- l.readLoop(conn)
	}()
	defer l.teardown(conn, out, readExit)

	l.signingOn.Store(true)
	err = l.signOn(ctx, readDone)
	l.signingOn.Store(false)
	if err != nil {
		return false, err
	}
	l.setUp(true)
	l.cfg.Log.Info("issuer link up", "issuer", l.cfg.Issuer, "endpoint", l.cfg.Addr, "conn", l.Conn())
	return true, l.serve(ctx, readDone, writeDone)
}

// serve sweeps timeouts and sends echoes until the connection fails or ctx
// ends.
func (l *Link) serve(ctx context.Context, readDone, writeDone <-chan error) error {
	tick := time.NewTicker(sweepInterval(time.Duration(l.timeout.Load())))
	defer tick.Stop()
	echoDue := false
	var echoFail <-chan error
	for {
		select {
		case <-ctx.Done():
			l.setUp(false)
			l.sendNetMgmt(iso.NetSignOff) // best effort; not awaited
			return ctx.Err()
		case err := <-readDone:
			return fmt.Errorf("read: %w", err)
		case err := <-writeDone:
			return fmt.Errorf("write: %w", err)
		case err := <-echoFail:
			if err != nil {
				return fmt.Errorf("echo: %w", err)
			}
			echoFail, echoDue = nil, false
			l.lastEcho.Store(l.now())
		case <-tick.C:
			l.sweep()
			if echo := time.Duration(l.echo.Load()); echo > 0 && !echoDue &&
				time.Duration(l.now()-l.lastRx.Load()) >= echo {
				echoDue = true
				echoFail = l.sendNetMgmt(iso.NetEcho)
			}
		}
	}
}

// sweepInterval is how often a link looks for timed-out requests: a
// timeout fires at most this late.
func sweepInterval(timeout time.Duration) time.Duration {
	return min(max(timeout/50, 2*time.Millisecond), 50*time.Millisecond)
}

func (l *Link) setUp(up bool) {
	if l.up.Swap(up) == up {
		return
	}
	l.since.Store(l.now())
	if l.cfg.OnState != nil {
		l.cfg.OnState(l, up)
	}
}

// Status is a link's state as the status page shows it.
type Status struct {
	Up        bool
	SigningOn bool      // connected, waiting for the sign-on's answer
	Since     time.Time // when it last went up or down (its creation, if never up)
	LastRx    time.Time // the last frame received; zero: none
	LastEcho  time.Time // the last echo answered; zero: none
}

// Status reads the link's state.
func (l *Link) Status() Status {
	at := func(ns int64) time.Time {
		if ns == 0 {
			return time.Time{}
		}
		return l.epoch.Add(time.Duration(ns))
	}
	return Status{Up: l.up.Load(), SigningOn: l.signingOn.Load(), Since: l.epoch.Add(time.Duration(l.since.Load())),
		LastRx: at(l.lastRx.Load()), LastEcho: at(l.lastEcho.Load())}
}

// teardown closes the connection and fails every pending request: the
// answer can no longer come back on this connection.
func (l *Link) teardown(conn net.Conn, out *wire.Writer, readExit <-chan struct{}) {
	l.setUp(false)
	out.Close()
	select { // let a sign-off or queued frames go out, briefly
	case <-out.Done():
	case <-time.After(100 * time.Millisecond):
	}
	_ = conn.Close()
	<-readExit
	l.mu.Lock()
	l.out, l.conn = nil, nil
	lost := make([]*Txn, 0, len(l.pending))
	var unsent []*Txn
	now := l.now()
	for k, t := range l.pending {
		delete(l.pending, k)
		if t.marks&awaitingVet != 0 {
			unsent = append(unsent, t)
			l.stans.free(k) // no answer can come
			continue
		}
		lost = append(lost, t)
		l.remember(k, t, now) // the issuer may have it, and answer on the next connection
	}
	l.fifo.reset()
	l.notifyIdle()
	l.mu.Unlock()
	for _, t := range lost {
		t.Owner.Fail(t, ErrLinkLost)
	}
	// A request still waiting for its vet was not written: the vet
	// precedes the write, and the connection is closed, so it never will
	// be. ErrLinkLost would have its owner reverse it, to an issuer that
	// never got it from this node; with its claim lost, that 0420 names
	// the other node's approved request. It is failed now, not at its vet:
	// a writer whose write failed never vets the frames queued behind, and
	// the claim need not be known: its owner answers it as an undecided
	// claim (91; the claim released, which touches only this node's own).
	// A request queued without a vet (the SQLite journal's) has no mark:
	// it may have been written, and is reversed.
	for _, t := range unsent {
		t.Owner.Fail(t, ErrNotSent)
	}
}
