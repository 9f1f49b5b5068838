package metrics

// otherLabel replaces an MTI, response code or reason outside the known
// set. MTIs come from acquirers and codes from issuers: without this a
// peer could create any number of time series (10,000 MTIs, 1,296 codes).
const otherLabel = "other"

// mtiLabel returns mti when it is a request MTI the switch handles, else
// otherLabel: ISO 8583:1987 (version 0), class authorization (1),
// financial (2), reversal (4) or network management (8), function request
// (0) or advice (2), origin acquirer (0) or its repeat (1). That is 16
// values.
func mtiLabel(mti string) string {
	if len(mti) != 4 || mti[0] != '0' {
		return otherLabel
	}
	switch mti[1] {
	case '1', '2', '4', '8':
	default:
		return otherLabel
	}
	if (mti[2] != '0' && mti[2] != '2') || (mti[3] != '0' && mti[3] != '1') {
		return otherLabel
	}
	return mti
}

// codeLabel returns code when it is two digits (the ISO 8583:1987
// response codes, 00-99) or one of EMV's offline codes (Y1, Y2, Y3, Z1,
// Z2, Z3), else otherLabel: other letter codes are private to networks,
// and an issuer sending arbitrary ones must not multiply series.
func codeLabel(code string) string {
	if len(code) != 2 {
		return otherLabel
	}
	if digit(code[0]) && digit(code[1]) || (code[0] == 'Y' || code[0] == 'Z') && code[1] >= '1' && code[1] <= '3' {
		return code
	}
	return otherLabel
}

func digit(c byte) bool { return c >= '0' && c <= '9' }

// reasons are the values Rejected's reason label takes; anything else is
// counted as otherLabel.
var reasons = map[string]bool{
	ReasonMaxConnections: true, ReasonMaxConnectionsPerIP: true, ReasonMaxPendingPerIP: true,
	ReasonUnknownAcquirer: true, ReasonInstitution: true, ReasonRate: true, ReasonInFlight: true,
	ReasonOversized: true, ReasonFrameTimeout: true, ReasonIdle: true, ReasonSlowReader: true, ReasonTLS: true,
}

func reasonLabel(reason string) string {
	if reasons[reason] {
		return reason
	}
	return otherLabel
}
