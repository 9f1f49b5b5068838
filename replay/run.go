package replay

import (
	"context"
	"errors"
	"fmt"
	"github.com/cardswitch/cardswitch/internal/dialectio"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/replay/trace"
)

// runner is one Run's shared state.
type runner struct {
	opt     Options
	tmpl    []template
	scanner *iso.Scanner     // of the dialect's text form
	codec   *dialectio.Codec // text form <-> the dialect's encoding
	// xl translates canonical messages to the dialect and back
	// (Options.Translate); nil otherwise and for a canonical dialect.
	xl      *iso.Translator
	hdr     []byte // sent after the length: the TPDU, a fixed header, or nothing
	conns   []*conn
	start   time.Time
	rrnBase uint64

	seq      atomic.Uint64 // next request number
	rrnSeq   atomic.Uint64
	sent     atomic.Int64 // requests queued outside warmup
	warmSent atomic.Int64
	sendErrs atomic.Int64 // failures before anything was queued
	errCount atomic.Int64 // timeouts + errors, for MaxErrors
	inflight atomic.Int64
	rr       atomic.Uint64 // round-robin cursor
	connDown atomic.Int64

	abandoned atomic.Int64 // measured requests still in flight when the run ended

	stopped   atomic.Bool
	stopOnce  sync.Once
	stopCh    chan struct{} // closed when no more requests will be sent
	drainOnce sync.Once
	drained   chan struct{} // closed when stopped and nothing is in flight
	closing   chan struct{} // closed when the run tears down
	abortErr  atomic.Pointer[error]
	early     atomic.Pointer[string] // why sending stopped before its end, if it did
}

// Run replays msgs against opt.Target and reports. It returns an error for
// invalid options or messages, or when no connection can be opened; a run
// that merely saw timeouts or failures returns a Report (and nil).
func Run(ctx context.Context, opt Options, msgs []trace.Message) (*Report, error) {
	opt.setDefaults(len(msgs))
	if err := opt.validate(len(msgs)); err != nil {
		return nil, err
	}
	r, err := newRunner(opt, msgs)
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	for _, c := range r.conns {
		wg.Add(3)
		go func() { defer wg.Done(); c.readLoop() }()
		go func() { defer wg.Done(); c.writeLoop() }()
		go func() { defer wg.Done(); c.sweepLoop() }()
	}
	mon := newMonitor(r)
	wg.Add(1)
	go func() { defer wg.Done(); mon.loop() }()

	r.schedule(ctx)
	r.wait(ctx)
	r.stop()
	end := r.now()
	close(r.closing)
	for _, c := range r.conns {
		c.fail() // closing: quietly abandons anything still in flight
	}
	wg.Wait()
	rep := r.report(mon, end)
	if p := r.abortErr.Load(); p != nil && errors.Is(*p, ErrAllConnsDown) {
		return rep, *p
	}
	return rep, nil
}

func newRunner(opt Options, msgs []trace.Message) (*runner, error) {
	codec, xl, err := newConverter(opt)
	if err != nil {
		return nil, err
	}
	textSpec := codec.TextSpec()
	if opt.Translate {
		textSpec = iso.Spec87()
	}
	sc, err := iso.NewScanner(textSpec)
	if err != nil {
		return nil, err
	}
	tmpl, err := newTemplates(sc, msgs)
	if err != nil {
		return nil, err
	}
	if err := checkWire(codec, xl, tmpl); err != nil {
		return nil, err
	}
	if opt.Recorded {
		for i := range tmpl {
			if tmpl[i].at < 0 {
				return nil, &MessageError{Line: tmpl[i].line, Field: -1, Reason: "no timing in the trace (recorded timing needs it)"}
			}
		}
	}
	r := &runner{opt: opt, tmpl: tmpl, scanner: sc, codec: codec, xl: xl, hdr: sendHeader(opt), stopCh: make(chan struct{}),
		drained: make(chan struct{}), closing: make(chan struct{})}
	r.start = time.Now()
	// RRNs differ between runs too (microseconds since the epoch as the
	// base) unless a run sends more requests than microseconds elapse
	// between two runs' starts.
	r.rrnBase = uint64(r.start.UnixMicro()) % 1e12 // #nosec G115
	for i := range opt.Connections {
		c, err := dialConn(r, i)
		if err != nil {
			for _, c := range r.conns {
				_ = c.nc.Close()
			}
			return nil, fmt.Errorf("replay: connect %s: %w", opt.Target, err)
		}
		r.conns = append(r.conns, c)
	}
	r.start = time.Now() // dialling is not part of the run
	return r, nil
}

func (r *runner) now() int64 { return time.Since(r.start).Nanoseconds() }

func (r *runner) nextRRN() uint64 { return (r.rrnBase + r.rrnSeq.Add(1)) % 1e12 }

func (r *runner) isClosing() bool {
	select {
	case <-r.closing:
		return true
	default:
		return false
	}
}

// stop ends sending; the run finishes once nothing is in flight.
func (r *runner) stop() {
	r.stopOnce.Do(func() {
		r.stopped.Store(true)
		close(r.stopCh)
	})
	if r.inflight.Load() == 0 {
		r.drainOnce.Do(func() { close(r.drained) })
	}
}

func (r *runner) abort(err error) {
	r.abortErr.CompareAndSwap(nil, &err)
	r.stopEarly(err.Error())
}

// stopEarly stops sending for reason, which the report gives when
// requests were still to be sent.
func (r *runner) stopEarly(reason string) {
	if r.moreToSend() {
		r.early.CompareAndSwap(nil, &reason)
	}
	r.stop()
}

// moreToSend reports whether the run would still send requests: neither
// stopped, nor at Count, nor past Duration.
func (r *runner) moreToSend() bool {
	switch {
	case r.stopped.Load():
		return false
	case r.opt.Count > 0 && r.seq.Load() >= uint64(r.opt.Count): // #nosec G115 -- Count > 0
		return false
	case r.opt.Duration > 0 && r.now() >= r.opt.Duration.Nanoseconds():
		return false
	}
	return true
}

// complete ends one request's life, and in closed-loop mode replaces it.
// The replacement is counted in flight before the completed one leaves, so
// the count cannot touch zero in between.
func (r *runner) complete(c *conn) {
	if r.opt.mode() == ModeClosed && !r.stopped.Load() {
		r.sendNext(c)
	}
	r.release()
}

// noteError counts a timeout or error against MaxErrors.
func (r *runner) noteError() {
	if n := r.errCount.Add(1); r.opt.MaxErrors >= 0 && n > int64(r.opt.MaxErrors) {
		r.stopEarly(fmt.Sprintf("timeouts plus errors (%d) exceeded the most allowed (%d)", n, r.opt.MaxErrors))
	}
}

func (r *runner) connFailed() {
	if r.connDown.Add(1) == int64(len(r.conns)) {
		r.abort(ErrAllConnsDown)
	}
}

// wait returns once the run drained, ctx ended, or (after sending
// stopped) the longest a request can legitimately stay in flight passed.
func (r *runner) wait(ctx context.Context) {
	select {
	case <-r.drained:
		return
	case <-ctx.Done():
		return
	case <-r.stopCh:
	}
	grace := time.NewTimer(r.opt.Timeout + time.Second)
	defer grace.Stop()
	select {
	case <-r.drained:
	case <-ctx.Done():
	case <-grace.C:
	}
}
