package journal

import (
	"fmt"
	"log/slog"
)

// Options tune a journal opened for writing. Zero values take the defaults.
type Options struct {
	// BatchMax is the most entries written to the log in one write. Default 1024.
	BatchMax int
	// Queue is how many entries may wait for the writer; Append blocks when
	// it is full (backpressure). Default 65536.
	Queue int
	// Sync is the durability policy: "normal" (default; an entry is
	// durable once written to the log: it survives kill -9, the last
	// writes may be lost on power loss) or "full" (an fsync per log write;
	// survives power loss).
	Sync string
	// Log receives write and index errors. Default slog.Default().
	Log *slog.Logger

	segMax int64 // log segment size before rotation; tests shrink it
}

const (
	defaultBatchMax = 1024
	defaultQueue    = 65536
	defaultSync     = "normal"
)

// withDefaults fills zero fields and validates Sync.
func (o Options) withDefaults() (Options, error) {
	if o.BatchMax <= 0 {
		o.BatchMax = defaultBatchMax
	}
	if o.Queue <= 0 {
		o.Queue = defaultQueue
	}
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
	return o, nil
}
