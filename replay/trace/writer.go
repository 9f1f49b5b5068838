package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/moov-io/iso8583"
)

// Writer writes messages as JSON Lines that Parse reads back: fields in
// number order with moov-io's JSON values (numeric fields as numbers),
// then "t" and "expect". It is safe for concurrent use; each line is one
// Write on the underlying writer.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf bytes.Buffer
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes m as one line. at >= 0 becomes "t" in seconds (NoTiming
// leaves it out); a non-empty expect becomes "expect". Write never puts a
// field value in its error.
func (w *Writer) Write(m *iso8583.Message, at time.Duration, expect string) error {
	raw, err := m.MarshalJSON() // packs, so the line is a valid message
	if err != nil {
		return fmt.Errorf("trace: encoding message: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return fmt.Errorf("trace: encoding message: %w", jsonCause(err))
	}
	delete(fields, "1") // the bitmap: recomputed when packed

	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Reset()
	w.buf.WriteByte('{')
	for i, k := range sortedKeys(fields) {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		w.buf.WriteString(strconv.Quote(k))
		w.buf.WriteByte(':')
		w.buf.Write(fields[k])
	}
	if at >= 0 {
		w.buf.WriteString(`,"t":`)
		w.buf.WriteString(strconv.FormatFloat(at.Seconds(), 'f', -1, 64))
	}
	if expect != "" {
		w.buf.WriteString(`,"expect":`)
		w.buf.Write(quote(expect))
	}
	w.buf.WriteString("}\n")
	_, err = w.w.Write(w.buf.Bytes())
	return err
}
