package acquirers

import (
	"maps"
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// Limiter holds the live per-acquirer counters. It is safe for concurrent
// use. A nil *Acquirer (no registry configured) is never limited.
//
// Connections are long-lived, so after a reload some callers still hold
// the old *Acquirer while new connections hold the new one. The limits in
// force are those of the newest Registry seen for that name, whichever
// pointer a caller passes: an old connection cannot undo a reload.
type Limiter struct {
	mu     sync.Mutex // serializes inserts into states
	states atomic.Pointer[map[string]*state]
}

// state is one acquirer's live counters and limits, kept by name.
type state struct {
	conns    atomic.Int64
	inFlight atomic.Int64

	gen         atomic.Uint64 // Registry generation the limits below come from
	mu          sync.Mutex    // serializes limit updates
	maxConns    atomic.Int64  // 0: unlimited
	maxInFlight atomic.Int64  // 0: unlimited
	rateOn      atomic.Bool   // Rate > 0
	limiter     *rate.Limiter
}

// NewLimiter returns a Limiter with no state yet.
func NewLimiter() *Limiter { return &Limiter{} }

// Connect admits a new connection of a under MaxConnections. When ok, the
// caller must call release once when the connection closes (extra calls
// are ignored).
func (l *Limiter) Connect(a *Acquirer) (release func(), ok bool) {
	if a == nil {
		return func() {}, true
	}
	st := l.state(a)
	if !tryAcquire(&st.conns, st.maxConns.Load()) {
		return nil, false
	}
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			st.conns.Add(-1)
		}
	}, true
}

// Begin admits one request of a. It refuses, with the response code to
// answer at once, a request past MaxInFlight (CodeInFlightExceeded) or
// over Rate (CodeRateExceeded). After ok, the caller must call End when the
// request is answered; after a refusal it must not. Begin does not
// allocate once a's state exists.
func (l *Limiter) Begin(a *Acquirer) (ok bool, code string) {
	if a == nil {
		return true, ""
	}
	st := l.state(a)
	if !tryAcquire(&st.inFlight, st.maxInFlight.Load()) {
		return false, CodeInFlightExceeded
	}
	if st.rateOn.Load() && !st.limiter.Allow() {
		st.inFlight.Add(-1)
		return false, CodeRateExceeded
	}
	return true, ""
}

// End marks a request admitted by Begin as answered. Pass an acquirer with
// the same Name as the one given to Begin.
func (l *Limiter) End(a *Acquirer) {
	if a == nil {
		return
	}
	l.state(a).inFlight.Add(-1)
}

// Usage is a snapshot of one acquirer's live counters.
type Usage struct {
	Connections int // open connections
	InFlight    int // requests admitted and not yet ended
}

// Usage returns the live counters of the acquirer called name.
func (l *Limiter) Usage(name string) Usage {
	if m := l.states.Load(); m != nil {
		if st, ok := (*m)[name]; ok {
			return Usage{Connections: int(st.conns.Load()), InFlight: int(st.inFlight.Load())}
		}
	}
	return Usage{}
}

// tryAcquire adds one to n unless that would pass limit (0: unlimited).
func tryAcquire(n *atomic.Int64, limit int64) bool {
	if v := n.Add(1); limit > 0 && v > limit {
		n.Add(-1)
		return false
	}
	return true
}

// state returns a's state with a's limits applied if a is newer than what
// the state has. Lookups are an atomic load and a map read; a new name
// copies the map, once per acquirer.
func (l *Limiter) state(a *Acquirer) *state {
	if m := l.states.Load(); m != nil {
		if st, ok := (*m)[a.Name]; ok {
			if a.gen > st.gen.Load() {
				st.apply(a)
			}
			return st
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.states.Load()
	if old != nil {
		if st, ok := (*old)[a.Name]; ok {
			st.apply(a)
			return st
		}
	}
	next := map[string]*state{}
	if old != nil {
		next = maps.Clone(*old)
	}
	st := &state{limiter: rate.NewLimiter(rate.Limit(a.Rate), a.burst())}
	st.set(a)
	next[a.Name] = st
	l.states.Store(&next)
	return st
}

// apply takes a's limits if a comes from a newer Registry than the
// current ones. Tokens already spent stay spent.
func (st *state) apply(a *Acquirer) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if a.gen <= st.gen.Load() {
		return
	}
	st.limiter.SetLimit(rate.Limit(a.Rate))
	st.limiter.SetBurst(a.burst())
	st.set(a)
}

func (st *state) set(a *Acquirer) {
	st.maxConns.Store(int64(a.MaxConnections))
	st.maxInFlight.Store(int64(a.MaxInFlight))
	st.rateOn.Store(a.Rate > 0)
	st.gen.Store(a.gen)
}
