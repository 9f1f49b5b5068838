package replay

import (
	"errors"
	"fmt"
)

// OptionError reports an invalid Options field.
type OptionError struct {
	Option string
	Reason string
}

func (e *OptionError) Error() string { return fmt.Sprintf("replay: --%s: %s", e.Option, e.Reason) }

// MessageError reports a trace message that cannot be replayed. Line is
// the message's trace position; Field the offending field (0 = MTI, -1 =
// the frame as a whole). It never carries field values.
type MessageError struct {
	Line   int
	Field  int
	Reason string
}

func (e *MessageError) Error() string {
	if e.Field < 0 {
		return fmt.Sprintf("replay: message at line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("replay: message at line %d: field %d: %s", e.Line, e.Field, e.Reason)
}

// ErrAllConnsDown ends a run whose every connection has failed.
var ErrAllConnsDown = errors.New("replay: every connection failed")
