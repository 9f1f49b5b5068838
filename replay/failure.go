package replay

import (
	"strconv"
	"strings"
)

// Failure is one response that failed validation.
type Failure struct {
	Line     int      `json:"line"`           // the request's trace position
	MTI      string   `json:"mti"`            // request MTI
	PAN      string   `json:"pan,omitempty"`  // masked
	STAN     string   `json:"stan"`           // as sent
	Reason   string   `json:"reason"`         // never quotes card data
	Code     string   `json:"code,omitempty"` // field 39 received
	Expected []string `json:"expected,omitempty"`
}

func newFailure(t *template, stan uint32, reason string, code []byte) *Failure {
	f := &Failure{Line: t.line, MTI: string(t.frame[:4]), PAN: t.panMasks, Reason: reason}
	var s [stanLen]byte
	putDigits(s[:], uint64(stan))
	f.STAN = string(s[:])
	if k, ok := toCodeKey(code); ok {
		f.Code = codeString(k)
	}
	for _, e := range t.expect {
		f.Expected = append(f.Expected, codeString(e))
	}
	return f
}

// String is one line for the summary, PAN masked.
func (f Failure) String() string {
	var b strings.Builder
	b.WriteString("line ")
	b.WriteString(strconv.Itoa(f.Line))
	b.WriteString(": ")
	b.WriteString(f.MTI)
	if f.PAN != "" {
		b.WriteString(" ")
		b.WriteString(f.PAN)
	}
	b.WriteString(" stan ")
	b.WriteString(f.STAN)
	b.WriteString(": ")
	b.WriteString(f.Reason)
	return b.String()
}
