package record

import (
	"errors"
	"github.com/cardswitch/cardswitch/internal/dialectio"
	"github.com/cardswitch/cardswitch/iso"
	"io"
	"log/slog"
	"time"
)

// Defaults for Options.
const (
	// DefaultDialTimeout bounds connecting to the upstream for a new client.
	DefaultDialTimeout = 5 * time.Second
	// DefaultAnswerWait is how long a request's line waits for its response
	// before it is written without "expect" (lines are written in request
	// order, so one unanswered request must not hold back the rest forever).
	DefaultAnswerWait = 30 * time.Second
)

// Options configures a Proxy.
type Options struct {
	Listen      string        // address to accept clients on; ":0" picks a free port (see Addr)
	Upstream    string        // host to relay to, dialed once per client
	Out         io.Writer     // JSONL trace output; written from several goroutines under one lock
	KeepPAN     bool          // keep PANs and track 2 as they are (test environments only)
	Log         *slog.Logger  // nil discards
	DialTimeout time.Duration // 0: DefaultDialTimeout
	AnswerWait  time.Duration // 0: DefaultAnswerWait
	// Dialect is the dialect both sides speak: frames are read and
	// forwarded with its framing and decoded with its spec; the trace
	// keeps the field values (text form, package dialectio) and notes the
	// dialect in its first line. Zero: iso87ascii.
	Dialect iso.Dialect
}

func (o *Options) check() error {
	switch {
	case o.Listen == "":
		return errors.New("record: Listen is empty")
	case o.Upstream == "":
		return errors.New("record: Upstream is empty")
	case o.Out == nil:
		return errors.New("record: Out is nil")
	}
	if o.Dialect.Name == "" {
		o.Dialect, _ = dialectio.Lookup(dialectio.Default)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.AnswerWait <= 0 {
		o.AnswerWait = DefaultAnswerWait
	}
	return nil
}
