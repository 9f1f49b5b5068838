package trace

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrUnknownFormat reports content that is none of the trace formats.
var ErrUnknownFormat = errors.New("unrecognized trace format (want JSON Lines, jPOS XML, pcap or pcapng)")

// Error is a trace parse error at a source position. It never carries a
// field value: card data in the trace stays out of logs.
type Error struct {
	Name  string // the name given to Parse (usually the file path)
	Line  int    // line number (JSONL, jPOS XML) or packet number (captures); 0 when unknown
	Field string // the field key as in the source ("4", "t", "expect"); "" when the error is not about one field
	Err   error

	packet bool // Line counts packets, not lines
}

func (e *Error) Error() string {
	pos := e.Name
	switch {
	case e.Line > 0 && e.packet:
		pos += ": packet " + strconv.Itoa(e.Line)
	case e.Line > 0:
		pos += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: field %q: %v", pos, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %v", pos, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// FieldError is a problem with one ISO 8583 field of a message.
type FieldError struct {
	ID     int
	Reason string
}

func (e *FieldError) Error() string { return e.Reason }

func fieldErr(id int, format string, args ...any) error {
	return &FieldError{ID: id, Reason: fmt.Sprintf(format, args...)}
}

// asError places err at a position; a *FieldError names its field.
func asError(name string, line int, err error) *Error {
	var te *Error
	if errors.As(err, &te) {
		if te.Name == "" {
			te.Name = name
		}
		if te.Line == 0 {
			te.Line = line
		}
		return te
	}
	e := &Error{Name: name, Line: line, Err: err}
	var fe *FieldError
	if errors.As(err, &fe) {
		e.Field = strconv.Itoa(fe.ID)
	}
	return e
}
