package iso

// PAN length limits per ISO/IEC 7812.
const (
	maxPANLen = 19
	// minFullMaskLen is the shortest PAN that may show first 6 and last 4:
	// below it, 6+4 would reveal all but two digits or fewer.
	minFullMaskLen = 13
	// minLast4Len is the shortest PAN that may show its last 4 digits.
	minLast4Len = 8
)

// MaskPAN masks a card number for logs and errors. Rule (never more than
// first 6 + last 4, never more than half of a short number):
//   - 13 digits or more: first 6 and last 4 shown (411111******1111);
//   - 8 to 12: last 4 shown only (********1111);
//   - fewer than 8: fully masked.
//
// Shown bytes that are not digits print as '?', so garbage in field 2
// cannot inject control characters into logs. Empty input gives "".
func MaskPAN(pan []byte) string {
	n := len(pan)
	if n == 0 {
		return ""
	}
	head, tail := 0, 0
	switch {
	case n >= minFullMaskLen:
		head, tail = 6, 4
	case n >= minLast4Len:
		tail = 4
	}
	out := make([]byte, n)
	for i, c := range pan {
		switch {
		case i >= head && i < n-tail:
			out[i] = '*'
		case c >= '0' && c <= '9':
			out[i] = c
		default:
			out[i] = '?'
		}
	}
	return string(out)
}

// PANFromTrack2 returns the PAN of ISO 7813 track 2 data: the digits
// before the '=' (or 'D') separator, as a subslice of track2. An optional
// leading ';' start sentinel is skipped. It returns nil when there is no
// separator or the PAN part is empty, too long or not all digits.
func PANFromTrack2(track2 []byte) []byte {
	if len(track2) > 0 && track2[0] == ';' {
		track2 = track2[1:]
	}
	for i, c := range track2 {
		if c == '=' || c == 'D' || c == 'd' {
			if i == 0 || i > maxPANLen {
				return nil
			}
			return track2[:i]
		}
		if c < '0' || c > '9' {
			return nil
		}
	}
	return nil
}

// RoutingPAN returns the PAN to route on and the field it came from:
// field 2 if present, else the PAN in track 2 (field 35). A field 2 that
// is present but not 1..19 digits is not routable and does not fall back
// to track 2 (the two would disagree): it yields (nil, 0), as does a
// message with neither.
func RoutingPAN(v *View) ([]byte, int) {
	if v.Has(2) {
		pan := v.Field(2)
		if len(pan) == 0 || len(pan) > maxPANLen || !allDigits(pan) {
			return nil, 0
		}
		return pan, 2
	}
	if v.Has(35) {
		if pan := PANFromTrack2(v.Field(35)); pan != nil {
			return pan, 35
		}
	}
	return nil, 0
}
