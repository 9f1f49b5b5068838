package routing

import "strings"

// MaskPAN shows the first 6 and last 4 digits of pan and stars in between
// (411111******1111), so it can go into logs and messages. PANs too short
// to keep 10 digits visible, and anything that is not all digits, are fully
// starred: showing them would reveal most of the number.
func MaskPAN(pan []byte) string {
	const head, tail = 6, 4
	if len(pan) <= head+tail || !isDigits(string(pan)) {
		return strings.Repeat("*", len(pan))
	}
	return string(pan[:head]) + strings.Repeat("*", len(pan)-head-tail) + string(pan[len(pan)-tail:])
}
