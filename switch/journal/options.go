package journal

import (
	"fmt"
	"log/slog"
)

// Options tune a journal opened for writing. Zero values take the defaults.
type Options struct {
	// BatchMax is the most entries committed in one transaction. Default 1024.
	BatchMax int
	// Queue is how many entries may wait for the writer; Append blocks when
	// it is full (backpressure). Default 65536.
	Queue int
	// Sync is the durability policy: "normal" (default; survives kill -9,
	// the last commits may be lost on power loss) or "full" (fsync per
	// commit; survives power loss).
	Sync string
	// Log receives commit errors. Default slog.Default().
	Log *slog.Logger
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
	return o, nil
}
