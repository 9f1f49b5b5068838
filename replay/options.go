package replay

import (
	"crypto/tls"
	"fmt"
	"github.com/cardswitch/cardswitch/internal/dialectio"
	"github.com/cardswitch/cardswitch/iso"
	"io"
	"time"
)

// Options configure Run. Zero values take the defaults documented per
// field; exactly one pacing mode applies: Rate > 0 (open loop), else
// Recorded (trace timing), else closed loop with Concurrency.
type Options struct {
	// Target is the host:port to connect to. Required.
	Target string
	// Targets are more host:ports (the nodes of a cluster): connection i
	// goes to the (i mod n)th of Target and Targets. Default none.
	Targets []string
	// Connections is the number of persistent connections requests are
	// spread over (round-robin). Default 1.
	Connections int
	// Concurrency is the total number of requests in flight in closed-loop
	// mode, spread evenly over the connections. Default 1.
	Concurrency int
	// Rate is the open-loop send rate per second. Default 0 (not open loop).
	Rate float64
	// Recorded replays each message at its trace offset (Message.At) divided
	// by Speed. Every message must have timing. Default false.
	Recorded bool
	// Speed divides recorded gaps (2 = twice as fast). Default 1.
	Speed float64
	// Count is how many requests to send; the messages are reused
	// round-robin when Count exceeds them. Default: one pass over the
	// messages, or no limit when Duration is set.
	Count int
	// Duration stops sending after this long (warmup included). Default 0:
	// until Count.
	Duration time.Duration
	// Warmup excludes requests scheduled during the first Warmup of the run
	// from every statistic. Default 0.
	Warmup time.Duration
	// Timeout is how long a request may wait for its response after it is
	// sent; then it counts as a timeout. Default 5s.
	Timeout time.Duration
	// MaxErrors stops the run early once timeouts plus errors exceed it;
	// negative means never. Default 0 (the first error stops the run).
	MaxErrors int
	// NoRewrite sends frames as they are, STAN, RRN and date-time included.
	// Default false: 7, 11 and 37 are rewritten per send.
	NoRewrite bool
	// MaxFailures is how many validation failures the Report lists in
	// detail (all are counted). Default 20.
	MaxFailures int
	// DialTimeout bounds each connection's dial (the TLS handshake
	// included). Default 5s.
	DialTimeout time.Duration
	// TLS, when set, makes every connection a TLS client with it. Default
	// nil: plain TCP.
	TLS *tls.Config
	// Progress, when set, receives a live progress line every
	// ProgressEvery (carriage-return terminated, for a terminal).
	Progress io.Writer
	// ProgressEvery is the progress line interval. Default 500ms.
	ProgressEvery time.Duration
	// Dialect is how requests go on the wire and answers are read: its
	// framing (length header, TPDU) and its encoding. The messages stay
	// in the dialect's text form (package dialectio): iso.Spec87() frames
	// for a 1987 dialect, iso93ascii ones for a 1993 dialect. Default:
	// the zero Dialect, iso87ascii.
	Dialect iso.Dialect
	// TPDU is the header sent before each request in a TPDU dialect.
	// Default 6000010000 (destination NII 0001, source NII 0000).
	TPDU []byte
	// Translate makes the messages canonical (iso87ascii) frames whatever
	// the Dialect, put into it and read back by iso.Translator, as the
	// switch's edges do: a 1993 dialect then sends 1100s made from the
	// trace's 0100s, and its answers' action codes are checked as 1987
	// response codes. The translator's fast path costs about a microsecond
	// a message and allocates nothing, where the text form's re-packing
	// costs a moov unpack and pack: it is for a benchmark's generator, whose
	// own cost must stay small beside the switch's. Default false.
	Translate bool
}

// Defaults for zero Options fields.
const (
	defaultConnections   = 1
	defaultConcurrency   = 1
	defaultSpeed         = 1.0
	defaultTimeout       = 5 * time.Second
	defaultMaxFailures   = 20
	defaultDialTimeout   = 5 * time.Second
	defaultProgressEvery = 500 * time.Millisecond
	// writeBatchLimit is the most unsent bytes one connection buffers; a
	// send past it counts as an error rather than growing memory without
	// bound against a target that stopped reading for good.
	writeBatchLimit = 64 << 20
	// maxEnvelope bounds a frame's length header and header (TPDU) in the
	// backlog check.
	maxEnvelope = 16
)

// Mode names the pacing in reports.
const (
	ModeClosed   = "closed-loop"
	ModeRate     = "open-loop"
	ModeRecorded = "recorded"
)

func (o *Options) setDefaults(messages int) {
	orDefault(&o.Connections, defaultConnections)
	orDefault(&o.Concurrency, defaultConcurrency)
	orDefault(&o.Speed, defaultSpeed)
	orDefault(&o.Timeout, defaultTimeout)
	orDefault(&o.MaxFailures, defaultMaxFailures)
	orDefault(&o.DialTimeout, defaultDialTimeout)
	orDefault(&o.ProgressEvery, defaultProgressEvery)
	if o.Dialect.Name == "" {
		o.Dialect, _ = dialectio.Lookup(dialectio.Default)
	}
	if o.Dialect.Framing.Header == iso.HeaderTPDU && o.TPDU == nil {
		o.TPDU = []byte{0x60, 0x00, 0x01, 0x00, 0x00}
	}
	if o.Count <= 0 && o.Duration <= 0 {
		o.Count = messages
	}
}

// orDefault sets *v to d unless it is positive.
func orDefault[T int | float64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

func (o *Options) mode() string {
	switch {
	case o.Rate > 0:
		return ModeRate
	case o.Recorded:
		return ModeRecorded
	}
	return ModeClosed
}

func (o *Options) validate(messages int) error {
	switch {
	case o.Target == "":
		return &OptionError{Option: "target", Reason: "required"}
	case messages == 0:
		return &OptionError{Option: "messages", Reason: "nothing to send"}
	case o.Rate < 0:
		return &OptionError{Option: "rate", Reason: "must be >= 0"}
	case o.Rate > 0 && o.Recorded:
		return &OptionError{Option: "rate", Reason: "cannot be combined with recorded timing"}
	case o.Warmup < 0 || o.Duration < 0:
		return &OptionError{Option: "duration", Reason: "must be >= 0"}
	case o.Duration > 0 && o.Warmup >= o.Duration:
		return &OptionError{Option: "warmup", Reason: fmt.Sprintf("must be shorter than the duration (%s)", o.Duration)}
	}
	return nil
}
