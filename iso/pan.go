package iso

import panmask "github.com/cardswitch/cardswitch/internal/pan"

// MaskPAN masks a card number for logs, errors and the journal: see
// panmask.Mask for the rule (never more than first 6 + last 4).
func MaskPAN(pan []byte) string { return panmask.Mask(pan) }

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
			if i == 0 || i > panmask.MaxLen {
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
		if len(pan) == 0 || len(pan) > panmask.MaxLen || !allDigits(pan) {
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

// SensitiveFields carry card data other than the PAN: track 2 (35),
// track 3 (36), track 1 (45), PIN data (52, 53) and ICC data (55). They are
// never logged, stored, echoed by a simulator or printed.
var SensitiveFields = [...]int{35, 36, 45, 52, 53, 55}

// IsSensitive reports whether field id is one of SensitiveFields.
func IsSensitive(id int) bool {
	for _, s := range SensitiveFields {
		if s == id {
			return true
		}
	}
	return false
}
