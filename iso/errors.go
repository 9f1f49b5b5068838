package iso

import (
	"errors"
	"fmt"
)

// ErrNoMTI reports a frame shorter than 4 bytes or whose MTI is not
// 4 ASCII digits. The switch cannot even answer such a frame.
var ErrNoMTI = errors.New("iso: missing or malformed MTI")

// ErrTrailingData reports bytes after the last field the bitmap announces.
var ErrTrailingData = errors.New("iso: trailing bytes after last field")

// FieldError reports a problem with one field. Reason is a fixed text,
// never field data, so the error is always safe to log.
type FieldError struct {
	Field  int
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("field %d: %s", e.Field, e.Reason)
}

// Scan failure reasons. They index the preallocated error table so that
// Scan returns errors without allocating.
const (
	reasonTruncated = iota
	reasonNonDigit
	reasonNonASCII
	reasonNonHex
	reasonBadPrefix
	reasonTooLong
	reasonNotInSpec
	reasonTertiary
	reasonSetAbsent
	reasonSetLength
	reasonSetBitmap
	numReasons
)

var reasonText = [numReasons]string{
	reasonTruncated: "frame ends inside field",
	reasonNonDigit:  "non-digit in numeric field",
	reasonNonASCII:  "non-ASCII byte in field",
	reasonNonHex:    "non-hex character in field",
	reasonBadPrefix: "non-digit in length prefix",
	reasonTooLong:   "length exceeds field maximum",
	reasonNotInSpec: "bit set for a field absent from the spec",
	reasonTertiary:  "tertiary bitmap not supported",
	reasonSetAbsent: "cannot set a field that is not present",
	reasonSetLength: "new value length differs from the present one",
	reasonSetBitmap: "cannot set the bitmap",
}

// maxFieldID is the highest field a 1987 message (two bitmaps) can carry.
const maxFieldID = 128

// scanErrs holds one immutable *FieldError per (field, reason): Scan
// returns these so that rejecting a corrupt frame does not allocate either.
var scanErrs = func() (t [maxFieldID + 1][numReasons]*FieldError) {
	for id := range t {
		for r := range t[id] {
			t[id][r] = &FieldError{Field: id, Reason: reasonText[r]}
		}
	}
	return t
}()

func fieldErr(id, reason int) error { return scanErrs[id][reason] }
