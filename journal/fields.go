package journal

import (
	"time"
)

// Fields is an entry whose wire fields are byte slices that may alias the
// frames they came from. AppendBody encodes it for the log directly, which
// spares the answer path copying them into an Entry's strings and the log
// writer encoding those again.
type Fields struct {
	Time     time.Time
	Conn     uint64
	Latency  time.Duration
	Acquirer string
	Remote   string
	Issuer   string

	MTI, ProcessingCode, Amount, Currency, STAN, RRN, Terminal, TransmissionTime []byte

	// PAN is ALREADY MASKED by the caller (first 6 + last 4); AppendBody
	// refuses a value with more than 10 digits.
	PAN []byte

	ResponseCode string
	Outcome      Outcome
	Reason       string

	// AcquirerDialect and IssuerDialect name the dialects the request came
	// in and went out in; "" for iso87ascii (see Entry).
	AcquirerDialect, IssuerDialect string

	// Closes is the seq of the in-flight record (StageSent) this entry
	// finishes, 0 for none: it is written beside the entry, not in it.
	Closes uint32
}

// BodySize bounds the bytes AppendBody adds for f.
func (f *Fields) BodySize() int {
	n := 3*10 + textCols*3 // varints
	for _, b := range [...][]byte{f.MTI, f.ProcessingCode, f.Amount, f.Currency, f.STAN, f.RRN, f.Terminal,
		f.TransmissionTime, f.PAN} {
		n += len(b)
	}
	return n + len(f.Acquirer) + len(f.Remote) + len(f.Issuer) + len(f.ResponseCode) + len(f.Outcome) + len(f.Reason) +
		2*3 + len(f.AcquirerDialect) + len(f.IssuerDialect)
}

// AppendBody appends f's log encoding, all of its record but the id the
// journal gives it (Stage), to dst. Like Append it refuses a PAN with
// more than 10 digits and an entry too large for a record.
func AppendBody(dst []byte, f *Fields) ([]byte, error) {
	if err := checkFields(f); err != nil {
		return dst, err
	}
	return appendBody(dst, f), nil
}

// checkFields is AppendBody's guard against clear PANs and oversized
// entries.
func checkFields(f *Fields) error { return guard(digits(f.PAN), f.BodySize()) }

// appendBody is AppendBody without the checks.
func appendBody(dst []byte, f *Fields) []byte {
	dst = appendTimes(dst, f.Time, f.Conn, f.Latency)
	dst = appendText(dst, f.Acquirer)
	dst = appendText(dst, f.Remote)
	dst = appendText(dst, f.Issuer)
	for _, b := range [...][]byte{f.MTI, f.ProcessingCode, f.Amount, f.Currency, f.STAN, f.RRN, f.Terminal,
		f.TransmissionTime, f.PAN} {
		dst = appendText(dst, b)
	}
	dst = appendText(dst, f.ResponseCode)
	dst = appendText(dst, f.Outcome)
	dst = appendText(dst, f.Reason)
	return appendDialects(dst, f.AcquirerDialect, f.IssuerDialect)
}
