package issuersim

import "github.com/cardswitch/cardswitch/iso"

// actionCodes93 are the ISO 8583:1993 action codes (39, 3 digits) a
// 1993 simulator answers for the 2-digit response codes its rules and
// its own decisions use. It is the 1987/1993 table, so that a
// simulator in a 1993 dialect answers what the switch's translation
// expects of a real 1993 host.
var actionCodes93 = map[string]string{
	"00": "000", "05": "100", "13": "110", "14": "111", "15": "908", "30": "904", "51": "116",
	"54": "101", "55": "117", "57": "119", "58": "120", "61": "121", "65": "123",
	"91": "907", "94": "913", "96": "909",
}

// actionApproved is the 1993 action code of an approval.
const actionApproved = "000"

// actionCodeOther answers a 2-digit code the table lacks: 100, do not
// honour, the generic decline.
const actionCodeOther = "100"

// wireCode is code (2 digits) as field 39 carries it in the simulator's
// dialect: unchanged in 1987, the action code in 1993.
func (s *Sim) wireCode(code string) string {
	if s.dialect.Version != 1993 {
		return code
	}
	if ac, ok := actionCodes93[code]; ok {
		return ac
	}
	return actionCodeOther
}

// classifyIn reads an MTI of the simulator's version: a 1993 MTI
// (1100, 1200, 1420, 1804, ...) is treated as its 1987 counterpart.
func classifyIn(version int, mti string) kind {
	if version != 1993 {
		return classify(mti)
	}
	switch mti {
	case "1100", "1200":
		return kindAuth
	case "1400", "1401", "1420", "1421":
		return kindReversal
	case "1804":
		return kindNetMgmt
	}
	return kindUnsupported
}

// withHeader puts in front of an answer the header it goes out with: the
// request's TPDU with the NIIs swapped, or the request's fixed header.
// Without a header the answer is body itself (no copy), so iso87ascii
// costs what it did before dialects.
func (c *conn) withHeader(body []byte) []byte {
	f := c.sim.dialect.Framing
	switch f.Header {
	case iso.HeaderTPDU:
		out := make([]byte, iso.TPDULen, iso.TPDULen+len(body))
		iso.AnswerTPDU(out, c.reqHdr)
		return append(out, body...)
	case iso.HeaderFixed:
		return append(append(make([]byte, 0, len(c.reqHdr)+len(body)), c.reqHdr...), body...)
	}
	return body
}
