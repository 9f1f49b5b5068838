package switchd

import (
	"context"
	"time"

	"github.com/cardswitch/cardswitch/switch/internal/wire"
	"github.com/cardswitch/cardswitch/switch/metrics"
)

// FlushJournal returns once every entry journaled before the call is
// visible to queries (the txn commands, OpenReadOnly): answers wait only
// for the journal's log, and its SQLite index follows behind. Without a
// journal it returns at once.
func (s *Switch) FlushJournal(ctx context.Context) error {
	if s.jrnl == nil {
		return nil
	}
	return s.jrnl.Flush(ctx)
}

// BreakJournal closes the journal under the running switch: every later
// write fails, as on a full disk.
func (s *Switch) BreakJournal() error { return s.jrnl.Close() }

// Metrics exposes the switch's metrics to the tests.
func (s *Switch) Metrics() *metrics.Metrics { return s.metrics }

// Lingering reports whether shutdown has reached the close linger: the
// requests in flight are answered and acquirer connections are being
// given listen.close_linger before they close.
func (s *Switch) Lingering() bool { return s.lingerAt.Load() != 0 }

// Sources is how many source addresses have a connection open.
func (s *Switch) Sources() int { return s.perIP.sources() }

// WaitSources waits until Sources is n. A closed connection leaves the
// count when its handler has ended, which no event announces: it polls.
func (s *Switch) WaitSources(ctx context.Context, n int) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for s.perIP.sources() != n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// InFlight is the switch-wide count of requests holding a place under
// listen.max_in_flight_total.
func (s *Switch) InFlight() int64 { return s.txns.n.Load() }

// IssuerInFlight is the count of requests holding a place under the
// issuer's max_in_flight (0 for an unknown issuer).
func (s *Switch) IssuerInFlight(name string) int64 {
	if is := s.issuerNamed(name); is != nil {
		return is.Admitted()
	}
	return 0
}

// WithReversalClock sets the clock of the reversal rate limiters: a test
// moves it to let a known number of tokens in.
func WithReversalClock(now func() time.Time) Option { return func(s *Switch) { s.revClock = now } }

// WithReversalPass calls fn after each pass of the reversal manager over
// the due reversals.
func WithReversalPass(fn func()) Option { return func(s *Switch) { s.revPass = fn } }

// WithJournalIndexGate pauses the SQLite journal's indexer until gate is
// closed (journal.Options.IndexGate).
func WithJournalIndexGate(gate <-chan struct{}) Option { return func(s *Switch) { s.indexGate = gate } }

// ReversalsSent counts the reversal attempts handed to an issuer link.
func (s *Switch) ReversalsSent() int64 { return s.revs.sent.Load() }

// WithWireDirect selects a direct-write variant (wire.ParseDirect's
// names) instead of CARDSWITCH_WIRE_DIRECT's.
func WithWireDirect(name string) Option {
	d, err := wire.ParseDirect(name)
	if err != nil {
		panic(err)
	}
	return func(s *Switch) { s.direct, s.directSet = d, true }
}
