package journal

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned (or given to a Waiter) after Close.
	ErrClosed = errors.New("journal: closed")
	// ErrReadOnly is returned by writes on a journal from OpenReadOnly.
	ErrReadOnly = errors.New("journal: opened read-only")

	errNilEntry = errors.New("journal: nil entry")
)

// FieldError says why an entry field was refused. It never carries the
// field's value.
type FieldError struct {
	Field  int    // ISO 8583 field number; 0 when the whole entry is refused
	Name   string // entry field name
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == 0 {
		return fmt.Sprintf("journal: %s %s", e.Name, e.Reason)
	}
	return fmt.Sprintf("journal: field %d (%s) %s", e.Field, e.Name, e.Reason)
}

// NotFoundError is returned when an entry or reversal id does not exist.
type NotFoundError struct {
	Kind string // "entry" or "reversal"
	ID   int64
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("journal: %s %d not found", e.Kind, e.ID)
}

// SchemaError is returned when the file's schema version is unknown to this
// build (written by a newer cardswitch), or, on a read-only open, missing
// or older (only the switch migrates a journal).
type SchemaError struct {
	Version, Known int
}

func (e *SchemaError) Error() string {
	if e.Version == 0 {
		return "journal: not a cardswitch journal (schema version 0)"
	}
	if e.Version < e.Known {
		return fmt.Sprintf("journal: schema version %d is older than this build's %d: "+
			"start this build's switch (cardswitch serve) on it once to migrate it", e.Version, e.Known)
	}
	return fmt.Sprintf("journal: schema version %d is newer than this build's %d", e.Version, e.Known)
}
