package metrics

// invalidLabel replaces an MTI or response code that is not well formed.
// Codes come from issuers and MTIs from acquirers: without this a peer
// could create any number of time series.
const invalidLabel = "invalid"

// mtiLabel returns mti when it is four digits, else invalidLabel.
func mtiLabel(mti string) string {
	if len(mti) != 4 {
		return invalidLabel
	}
	for i := 0; i < len(mti); i++ {
		if mti[i] < '0' || mti[i] > '9' {
			return invalidLabel
		}
	}
	return mti
}

// codeLabel returns code when it is two letters or digits (ISO 8583 field
// 39 is an2), else invalidLabel.
func codeLabel(code string) string {
	if len(code) != 2 || !alnum(code[0]) || !alnum(code[1]) {
		return invalidLabel
	}
	return code
}

func alnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}
