package issuersim

import "github.com/cardswitch/cardswitch/iso"

// wireCode is code (2 digits) as field 39 carries it in the simulator's
// dialect: unchanged in 1987, in 1993 the action code of the switch's own
// table (iso.ActionCodes), so that a 1993 simulator answers what the
// switch's translation reads back.
func (s *Sim) wireCode(code string) string {
	if s.dialect.Version != 1993 {
		return code
	}
	return iso.CodeTo1993(code)
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
