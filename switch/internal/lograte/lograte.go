// Package lograte is a slog.Handler that rate-limits log lines by their
// (level, message): the first Burst lines of a message in each Interval
// pass, the rest are counted, and one summary line per message and
// interval says how many were dropped. Per-frame warnings (an attacker's
// flood of malformed or unexpected frames) then cost a bounded number of
// lines, while rare lines (start, link up and down, reloads) always pass.
package lograte

import (
	"context"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// SummaryMessage is the message of the line that reports suppressed lines.
// Its attributes: message (the suppressed lines' message), suppressed (how
// many) and interval.
const SummaryMessage = "log lines suppressed by the rate limit"

// overflowMessage names, in a summary, the lines of messages beyond
// MaxKeys, which share one budget.
const overflowMessage = "(messages beyond the rate limiter's key cap)"

// Limits configure a Handler.
type Limits struct {
	// Burst lines of one message pass per interval; <= 0 disables limiting.
	Burst int
	// Interval is the window the burst is counted in, aligned to the Unix
	// epoch. Must be > 0 when Burst is.
	Interval time.Duration
	// Below is the level under which lines pass unlimited: debug lines
	// (one per transaction) are written only when an operator asked for
	// them, and then all of them are wanted.
	Below slog.Level
	// MaxKeys bounds the distinct (level, message) pairs tracked; lines of
	// further messages share one budget. Messages are constants in the
	// code, so the cap is a guard, not a working limit.
	MaxKeys int
}

// Handler wraps a slog.Handler. Handlers derived by WithAttrs and
// WithGroup share one limiter.
type Handler struct {
	next slog.Handler
	lim  *limiter
}

// New wraps next with the limits l.
func New(next slog.Handler, l Limits) *Handler {
	return &Handler{next: next, lim: newLimiter(next, l)}
}

// Enabled reports whether next handles level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle passes r on unless its message is over its budget.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if h.lim.burst <= 0 || r.Level < h.lim.below || h.lim.allow(ctx, r) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

// WithAttrs returns a handler with attrs that shares h's budgets.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs), lim: h.lim}
}

// WithGroup returns a handler with a group that shares h's budgets.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), lim: h.lim}
}

// Close writes the summaries still owed and stops the timer, so that no
// goroutine of the handler logs after it returns. Lines handled afterwards
// are still limited; their summaries come only with their message's first
// line in a later window.
func (h *Handler) Close() { h.lim.close() }

// limiter holds the budgets: an open-addressed table of entries, filled
// once per key and never emptied, so that a lookup takes no lock and
// allocates nothing.
type limiter struct {
	base     slog.Handler // summaries go here, without a line's attributes
	burst    uint64
	interval int64 // nanoseconds
	below    slog.Level
	seed     maphash.Seed
	slots    []atomic.Pointer[entry]
	keys     atomic.Int64
	maxKeys  int64
	overflow entry

	mu        sync.Mutex // the timer and closing
	timer     func()     // stops the pending summary timer; nil when none
	closed    bool
	afterFunc func(time.Duration, func()) (stop func())
}

// entry is one (level, message) budget. state packs the window number
// (high 40 bits, modulo) and the lines passed in it (low 24 bits), so one
// compare-and-swap moves both.
type entry struct {
	level      slog.Level
	msg        string
	state      atomic.Uint64
	suppressed atomic.Int64
}

const (
	countBits = 24
	countMask = 1<<countBits - 1
	winMask   = 1<<(64-countBits) - 1
)

func newLimiter(base slog.Handler, l Limits) *limiter {
	maxKeys := max(l.MaxKeys, 1)
	size := 1
	for size < 2*maxKeys {
		size <<= 1
	}
	lim := &limiter{base: base, burst: uint64(max(l.Burst, 0)), interval: int64(l.Interval), below: l.Below, seed: maphash.MakeSeed(),
		slots: make([]atomic.Pointer[entry], size), maxKeys: int64(maxKeys), afterFunc: afterFunc}
	lim.overflow.msg = overflowMessage
	if lim.interval <= 0 {
		lim.burst = 0
	}
	lim.burst = min(lim.burst, countMask)
	return lim
}

func afterFunc(d time.Duration, f func()) func() {
	t := time.AfterFunc(d, f)
	return func() { t.Stop() }
}

// allow counts r against its message's budget in r's window (r.Time; now
// when unset) and reports whether it passes. The first line of a new
// window first writes the previous window's summary, if one is owed.
func (l *limiter) allow(ctx context.Context, r slog.Record) bool {
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	win := uint64(t.UnixNano()/l.interval) & winMask
	e := l.lookup(r.Level, r.Message)
	for {
		old := e.state.Load()
		cur, n := old>>countBits, old&countMask
		// A line stamped before the entry's window (goroutines race to
		// log) counts against the current window rather than rewinding it.
		if cur != win && (win-cur)&winMask <= winMask/2 {
			// The previous window's count is taken before the window moves
			// on: once it has, other goroutines count this window's
			// suppressed lines, which its own summary reports.
			n := e.suppressed.Swap(0)
			if e.state.CompareAndSwap(old, win<<countBits|1) {
				l.report(ctx, e, t, n)
				return true
			}
			e.suppressed.Add(n) // another goroutine moved the window: not ours to report
			continue
		}
		if n >= l.burst {
			if e.suppressed.Add(1) == 1 {
				l.arm(t)
			}
			return false
		}
		if e.state.CompareAndSwap(old, old+1) {
			return true
		}
	}
}

// lookup finds or adds the entry of (level, msg) without a lock: slots are
// only ever filled, by compare-and-swap.
func (l *limiter) lookup(level slog.Level, msg string) *entry {
	h := maphash.String(l.seed, msg) ^ uint64(int64(level))*0x9E3779B97F4A7C15
	mask := uint64(len(l.slots) - 1)
	for i := range uint64(len(l.slots)) {
		slot := &l.slots[(h+i)&mask]
		e := slot.Load()
		if e == nil {
			if l.keys.Load() >= l.maxKeys {
				return &l.overflow
			}
			ne := &entry{level: level, msg: msg}
			if slot.CompareAndSwap(nil, ne) {
				l.keys.Add(1)
				return ne
			}
			e = slot.Load()
		}
		if e.level == level && e.msg == msg {
			return e
		}
	}
	return &l.overflow
}

// summarize writes e's summary line if lines were suppressed since the
// last one.
func (l *limiter) summarize(ctx context.Context, e *entry, t time.Time) {
	l.report(ctx, e, t, e.suppressed.Swap(0))
}

// report writes e's summary of n suppressed lines; none for 0.
func (l *limiter) report(ctx context.Context, e *entry, t time.Time, n int64) {
	if n == 0 {
		return
	}
	r := slog.NewRecord(t, e.level, SummaryMessage, 0)
	r.AddAttrs(slog.String("message", e.msg), slog.Int64("suppressed", n),
		slog.Duration("interval", time.Duration(l.interval)))
	if l.base.Enabled(ctx, e.level) {
		_ = l.base.Handle(ctx, r)
	}
}

// arm starts the timer that writes the summaries at the end of t's window,
// so that a flood that stops is still reported without waiting for its
// message's next line. One timer serves every entry.
func (l *limiter) arm(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil || l.closed {
		return
	}
	ns := t.UnixNano()
	end := (ns/l.interval + 1) * l.interval
	l.timer = l.afterFunc(time.Duration(end-ns), l.fire)
}

// fire writes every summary owed. It holds mu while writing, so that no
// summary is written once close has returned.
func (l *limiter) fire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.timer = nil
	l.sweep()
}

func (l *limiter) sweep() {
	now := time.Now()
	for i := range l.slots {
		if e := l.slots[i].Load(); e != nil {
			l.summarize(context.Background(), e, now)
		}
	}
	l.summarize(context.Background(), &l.overflow, now)
}

func (l *limiter) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	if l.timer != nil {
		l.timer()
		l.timer = nil
	}
	l.sweep()
}
