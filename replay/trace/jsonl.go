package trace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/moov-io/iso8583"
	"io"
	"strconv"
)

// maxJSONLine bounds one JSONL line (a message is a few hundred bytes;
// this leaves room for large private fields).
const maxJSONLine = 1 << 20

// Keys of a JSONL line that are not ISO 8583 fields.
const (
	keyTime   = "t"
	keyExpect = "expect"
)

// parseJSONL reads one message per line. Blank lines and lines starting
// with '#' are skipped.
func parseJSONL(r io.Reader, name string, spec *iso8583.MessageSpec) ([]Message, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxJSONLine)
	var (
		msgs  []Message
		clock timeline
	)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if line == 1 {
			text = bytes.TrimPrefix(text, utf8BOM)
		}
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		m, stamp, err := parseJSONLine(text, spec)
		if err != nil {
			return nil, asError(name, line, err)
		}
		m.Line = line
		if err := clock.add(stamp, line); err != nil {
			return nil, asError(name, line, err)
		}
		msgs = append(msgs, m)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d bytes", maxJSONLine)
		}
		return nil, &Error{Name: name, Err: err}
	}
	if err := clock.apply(msgs); err != nil {
		return nil, asError(name, 0, err)
	}
	return msgs, nil
}

// parseJSONLine decodes one JSON object into a packed message and its raw
// "t" value (nil when absent).
func parseJSONLine(text []byte, spec *iso8583.MessageSpec) (Message, json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(text, &obj); err != nil {
		return Message{}, nil, fmt.Errorf("invalid JSON: %w", jsonCause(err))
	}
	m := Message{At: NoTiming}
	b := newBuilder(spec)
	// Fields in number order so the first bad one is reported, every time.
	for _, k := range sortedKeys(obj) {
		raw := obj[k]
		var err error
		switch k {
		case keyTime:
			continue
		case keyExpect:
			m.Expect, err = parseExpect(raw, codeLen(spec))
		default:
			err = setJSONField(b, k, raw)
		}
		if err != nil {
			return Message{}, nil, keyError(k, err)
		}
	}
	frame, err := b.pack()
	if err != nil {
		return Message{}, nil, err
	}
	m.Frame = frame
	return m, obj[keyTime], nil
}

// setJSONField sets the field keyed k ("0".."128"); "1", the bitmap, is
// ignored because packing computes it.
func setJSONField(b *builder, k string, raw json.RawMessage) error {
	id, err := strconv.Atoi(k)
	if err != nil || strconv.Itoa(id) != k {
		return errors.New(`unknown field (want a field number, "t" or "expect")`)
	}
	if id == 1 {
		return nil
	}
	return b.setJSON(id, raw)
}

// keyError names the JSON key in the error (field errors keep their id).
func keyError(k string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return err
	}
	return &Error{Field: k, Err: err}
}

// parseExpect accepts "00" or ["00","10"].
func parseExpect(raw json.RawMessage, n int) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return checkCodes([]string{one}, n)
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("want a response code or a list of codes")
	}
	return checkCodes(list, n)
}

// checkCodes requires alphanumeric codes of n characters, field 39's
// length: 2 in 1987 (an 2), 3 in 1993 (action codes).
func checkCodes(codes []string, n int) ([]string, error) {
	for _, c := range codes {
		if len(c) != n || !isAlnum(c) {
			return nil, fmt.Errorf("response code %q: want %d letters or digits", c, n)
		}
	}
	return codes, nil
}

func isAlnum(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// jsonCause drops the offending input from encoding/json's errors where it
// could quote a value; syntax errors only name a character and an offset.
func jsonCause(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%v (at byte %d)", se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return errors.New("want a JSON object")
	}
	return err
}

// codeLen is the length of spec's field 39 (2 when it has none).
func codeLen(spec *iso8583.MessageSpec) int {
	if f, ok := spec.Fields[39]; ok && f.Spec().Length > 0 {
		return f.Spec().Length
	}
	return 2
}
