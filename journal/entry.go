package journal

import (
	"fmt"
	"time"
)

// Outcome is how a request ended, from the switch's point of view.
type Outcome string

// Outcomes stored in Entry.Outcome.
const (
	Approved       Outcome = "approved"
	Declined       Outcome = "declined"
	SwitchDeclined Outcome = "switch-declined"
	TimedOut       Outcome = "timed-out"
	Late           Outcome = "late"
	Reversed       Outcome = "reversed"
	Duplicate      Outcome = "duplicate"
	// Unmatched: an issuer answer that came under a request's link STAN
	// but was not its answer (another PAN, amount, RRN, terminal or MTI);
	// it was not relayed. The entry holds the answer's fields.
	Unmatched Outcome = "unmatched"
	// StandIn: the switch decided for an issuer that was unreachable,
	// offline or late (approved 00 with its own field 38, or declined 57,
	// 61, 65 by the issuer's stand_in limits); the issuer is sent an
	// 0120 advice of it. An issuer answer that comes after is a Late
	// entry whose reason starts "stand-in".
	StandIn Outcome = "stand-in"
	// Advised: the issuer acknowledged (0130) the switch's 0120 advice of
	// a stand-in decision; its stored row is erased.
	Advised Outcome = "advised"
)

// Entry is one journaled request with its final answer. The caller must not
// modify an Entry between Append and its Waiter's Journaled call.
type Entry struct {
	ID       int64     // set when the entry is staged (ids increase in append order); 0 again if its log write failed
	Time     time.Time // request received
	Acquirer string    // acquirer name ("" when no acquirers are configured)
	Conn     uint64    // acquirer connection id
	Remote   string    // acquirer remote address
	Issuer   string    // "" when not routed

	// As on the wire.
	MTI, ProcessingCode, Amount, Currency, STAN, RRN, Terminal, TransmissionTime string

	// PAN is ALREADY MASKED by the caller (first 6 + last 4). Append refuses
	// a value with more than 10 digits.
	PAN string

	ResponseCode string
	Outcome      Outcome
	Reason       string
	Latency      time.Duration

	// AcquirerDialect and IssuerDialect name the dialects the request came
	// in (its listener's) and went out in (its issuer's); "" is
	// iso87ascii, which every entry written before dialects existed is.
	AcquirerDialect, IssuerDialect string

	// Node is the switch node that wrote the entry (cluster.node) on the
	// PostgreSQL journal, shared by several; "" on SQLite (one node).
	Node string
}

// Waiter learns that its entry is durable (err nil, e.ID set) or was not
// stored (err non-nil). Journaled is called exactly once per Append, in
// Append order, by the goroutine writing the entry's batch while it holds
// the log: it must be quick and must not call Append, Stage, Commit or
// Flush (they would wait for it).
type Waiter interface{ Journaled(e *Entry, err error) }

// maxPANDigits is the most digits a masked PAN carries (first 6 + last 4).
const maxPANDigits = 10

// maxEntryText bounds an entry's text so its log record stays far below
// maxRecordSz (the varints add at most a few hundred bytes). Wire fields
// are at most a few KiB in total.
const maxEntryText = maxRecordSz / 2

// checkEntry is the defense-in-depth guard against clear card data.
func checkEntry(e *Entry) error {
	if e == nil {
		return errNilEntry
	}
	size := 0
	for _, s := range entryTexts(e) {
		size += len(s)
	}
	size += len(e.AcquirerDialect) + len(e.IssuerDialect)
	return guard(digits(e.PAN), size)
}

// guard refuses an entry whose PAN has more digits than a masked one (it
// is never stored), or whose text would not fit a log record.
func guard(panDigits, size int) error {
	if panDigits > maxPANDigits {
		return &FieldError{Field: 2, Name: "pan", Reason: "has more than 10 digits: not masked, refused"}
	}
	if size > maxEntryText {
		return &FieldError{Name: "entry", Reason: fmt.Sprintf("%d bytes of text, more than %d: refused", size, maxEntryText)}
	}
	return nil
}

func digits[T ~string | ~[]byte](s T) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}
