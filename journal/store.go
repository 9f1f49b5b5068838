package journal

import (
	"context"
	"time"
)

// Store is the journal as the switch and the txn commands use it. *Journal
// (a log and a SQLite index: the embedded default) and *PG (PostgreSQL,
// shared by several nodes) implement it. The contract is *Journal's; what
// a backend cannot do yet it refuses with an error wrapping
// ErrUnsupported, and the switch refuses at start a configuration that
// would need it.
type Store interface {
	// Entries, group-committed: Stage* gives a Ticket, Commit returns once
	// every entry up to it is durable; Append's Waiter is told after.
	Append(e *Entry, w Waiter)
	StageFields(f *Fields) (Ticket, error)
	Commit(t Ticket)
	Flush(ctx context.Context) error
	Lag() int
	Close() error

	// In-flight records of requests going to an issuer (inflight.go).
	StageSent(s *Sent) (Ticket, uint32, error)
	StageDone(seq uint32)

	// Reads: the txn commands, the duplicate window's reload, retention.
	List(ctx context.Context, f Filter) ([]Entry, error)
	Get(ctx context.Context, id int64) (Entry, error)
	Stats(ctx context.Context, since time.Time) (Stats, error)
	RecentKeys(since time.Time) ([]DupKey, error)
	Prune(ctx context.Context, before time.Time) (int64, error)

	// The store-and-forward queue (reversal.go).
	AddReversals(ctx context.Context, rs []*Reversal) error
	DueReversalsOf(issuer string, now time.Time, limit int) ([]Reversal, error)
	PendingReversals() ([]Reversal, error)
	LockedReversals() ([]Reversal, error)
	ReversalAttempted(id int64, next time.Time, lastErr string) error
	ReversalRepeated(r *Reversal, frame []byte, next time.Time, lastErr string) error
	ReversalAcked(id int64, code string) error
	ReversalCount() (pending int, err error)

	// Stand-in (standin.go).
	CardHash(pan []byte) ([]byte, error)
	StandIn(ctx context.Context, fn func(*StandInTx) error) error
	ExpireAdvices(issuer string, before, now time.Time) (int64, error)
	AdviceQueueState() (AdviceQueue, error)
	AdviceExceptions() ([]Reversal, error)
}

var _ Store = (*Journal)(nil)
