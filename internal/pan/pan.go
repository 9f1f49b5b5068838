// Package pan masks card numbers. It has no dependencies so that every
// package, including routing (which must not import the ISO layer), masks
// PANs the same way.
package pan

import "slices"

// PAN length limits per ISO/IEC 7812.
const (
	// MaxLen is the longest PAN (ISO/IEC 7812).
	MaxLen = 19
	// minFullMaskLen is the shortest PAN that may show first 6 and last 4:
	// below it, 6+4 would reveal all but two digits or fewer.
	minFullMaskLen = 13
	// minLast4Len is the shortest PAN that may show its last 4 digits.
	minLast4Len = 8
)

// Mask masks a card number for logs and errors. Rule (never more than
// first 6 + last 4, never more than half of a short number):
//   - 13 digits or more: first 6 and last 4 shown (411111******1111);
//   - 8 to 12: last 4 shown only (********1111);
//   - fewer than 8: fully masked.
//
// Shown bytes that are not digits print as '?', so garbage in field 2
// cannot inject control characters into logs. Empty input gives "".
func Mask(pan []byte) string {
	if len(pan) == 0 {
		return ""
	}
	return string(AppendMasked(make([]byte, 0, len(pan)), pan))
}

// AppendMasked appends Mask(pan) to dst: no allocation when dst has room.
// It writes into dst grown once rather than appending byte by byte: it
// runs for every answer the switch journals or shows.
func AppendMasked(dst, pan []byte) []byte {
	n := len(pan)
	head, tail := 0, 0
	switch {
	case n >= minFullMaskLen:
		head, tail = 6, 4
	case n >= minLast4Len:
		tail = 4
	}
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	out := dst[start:]
	shown(out[:head], pan[:head])
	for mid := out[head : n-tail]; len(mid) > 0; { // longer than stars only for garbage, not a PAN
		mid = mid[copy(mid, stars[:]):]
	}
	shown(out[n-tail:], pan[n-tail:])
	return dst
}

// stars mask the hidden digits: all of a PAN's at most.
var stars = [...]byte{'*', '*', '*', '*', '*', '*', '*', '*', '*', '*', '*', '*', '*', '*', '*', '*', '*', '*', '*'}

// shown copies the digits of a PAN that are shown, a byte that is not a
// digit as '?'.
func shown(dst, src []byte) {
	for i, c := range src {
		if c < '0' || c > '9' {
			c = '?'
		}
		dst[i] = c
	}
}
