package trace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
func parseJSONL(r io.Reader, name string) ([]Message, error) {
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
		m, stamp, err := parseJSONLine(text)
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
func parseJSONLine(text []byte) (Message, json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(text, &obj); err != nil {
		return Message{}, nil, fmt.Errorf("invalid JSON: %w", jsonCause(err))
	}
	m := Message{At: NoTiming}
	b := newBuilder()
	// Fields in number order so the first bad one is reported, every time.
	for _, k := range sortedKeys(obj) {
		raw := obj[k]
		var err error
		switch k {
		case keyTime:
			continue
		case keyExpect:
			m.Expect, err = parseExpect(raw)
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
func parseExpect(raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return checkCodes([]string{one})
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("want a response code or a list of codes")
	}
	return checkCodes(list)
}

// checkCodes requires 2-character alphanumeric codes (field 39 is an 2).
func checkCodes(codes []string) ([]string, error) {
	for _, c := range codes {
		if len(c) != 2 || !isAlnum(c) {
			return nil, fmt.Errorf("response code %q: want 2 letters or digits", c)
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
