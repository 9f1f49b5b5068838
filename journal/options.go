package journal

import (
	"fmt"
	"log/slog"
	"time"
)

// Options tune a journal opened for writing. Zero values take the defaults.
type Options struct {
	// BatchMax is the most entries staged for one log write; beyond it
	// Stage and Append wait for the write under way, or write themselves
	// (backpressure). Default 1024.
	BatchMax int
	// Sync is the durability policy: "normal" (default; an entry is
	// durable once written to the log: it survives kill -9, the last
	// writes may be lost on power loss) or "full" (an fsync per log write;
	// survives power loss).
	Sync string
	// Log receives write and index errors. Default slog.Default().
	Log *slog.Logger
	// WriteFailed, if set, is told how many entries a failed log write
	// lost (after the error is logged), from the goroutine that wrote.
	// Their waiters hear the error; entries staged without one (Stage)
	// are known to be lost only here.
	WriteFailed func(entries int)
	// Retention, when > 0, is how long the owner keeps entries (it prunes
	// older ones): Open then does not index log records older than that,
	// which Prune would delete. Without it a segment kept after an index
	// failure would bring back, at the next start, entries pruned since.
	// Default 0: every record is indexed.
	Retention time.Duration
	// Keys seal the stored messages (reversals and advices owed, seal.go):
	// the first seals, every one opens, for rotation. Without keys the
	// journal stores no reversal (ErrNoKey) and lists none.
	Keys [][32]byte
	// Reverse makes the reversal of a request a previous run recorded as
	// sent (StageSent) and never finished; Open stores what it returns
	// before it removes that run's log. Nil: such requests are logged.
	Reverse func(s *Sent) (*Reversal, error)
	// InFlightHold is how long an indexed log segment is kept for the
	// in-flight records in it: at least the longest time a request can
	// stay unanswered before its reversal is stored (the issuers'
	// timeout, plus a margin). 0: removed once indexed.
	InFlightHold time.Duration
	// IndexLagMax is how far the index may fall behind the log (the age of
	// the oldest entry not yet indexed) before the journal says so: a
	// warning in the log (at most every minute) and IndexLag. Answers are
	// never held back for the index. Default 60s.
	IndexLagMax time.Duration
	// IndexGate, for tests: when set, the indexer receives from it before
	// each index transaction (a test pauses indexing by holding it, and
	// resumes it by closing it).
	IndexGate <-chan struct{}

	segMax int64         // log segment size before rotation; tests shrink it
	segAge time.Duration // log segment age before rotation; tests shrink it
	// removed, for tests, is told of each segment removed once indexed.
	removed func(name string)
}

const (
	defaultBatchMax = 1024
	defaultSync     = "normal"
	// DefaultIndexLagMax is Options.IndexLagMax when left out.
	DefaultIndexLagMax = time.Minute
)

// withDefaults fills zero fields and validates Sync.
func (o Options) withDefaults() (Options, error) {
	if o.BatchMax <= 0 {
		o.BatchMax = defaultBatchMax
	}
	if o.Sync == "" {
		o.Sync = defaultSync
	}
	if o.Sync != "normal" && o.Sync != "full" {
		return o, fmt.Errorf("journal: Options.Sync %q: want normal or full", o.Sync)
	}
	if o.IndexLagMax <= 0 {
		o.IndexLagMax = DefaultIndexLagMax
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.segMax <= 0 {
		o.segMax = segMaxSize
	}
	if o.segAge <= 0 {
		o.segAge = segMaxAge
	}
	return o, nil
}
