package journal

import (
	"fmt"
	"log/slog"
)

// Options tune a journal opened for writing. Zero values take the defaults.
type Options struct {
	// Sync is the durability policy: "normal" (default; an entry is
	// durable once written to the log: it survives kill -9, the last
	// writes may be lost on power loss) or "full" (an fsync per log write;
	// survives power loss).
	Sync string
	// Log receives write and index errors. Default slog.Default().
	Log *slog.Logger

	segMax int // log segment size; tests shrink it
	lagMax int // records the indexer may lag before appends wait; tests shrink it
}

const (
	defaultSync = "normal"
)

// withDefaults fills zero fields and validates Sync.
func (o Options) withDefaults() (Options, error) {
	if o.Sync == "" {
		o.Sync = defaultSync
	}
	if o.Sync != "normal" && o.Sync != "full" {
		return o, fmt.Errorf("journal: Options.Sync %q: want normal or full", o.Sync)
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.segMax <= 0 {
		o.segMax = segMaxSize
	}
	if o.lagMax <= 0 {
		o.lagMax = maxLag
	}
	return o, nil
}
