package iso

// ActionCodes is the one table between 1987 response codes (2 characters)
// and 1993 action codes (3 digits), used both ways; the README's table
// "1987 response codes and 1993 action codes" lists the same pairs (a test
// keeps the two equal).
var ActionCodes = [...]struct{ Response, Action string }{
	{"00", "000"}, {"01", "107"}, {"03", "109"}, {"04", "200"}, {"05", "100"},
	{"12", "902"}, {"13", "110"}, {"14", "111"}, {"15", "908"}, {"25", "914"}, {"30", "904"},
	{"41", "208"}, {"43", "209"}, {"51", "116"}, {"54", "101"}, {"55", "117"},
	{"57", "119"}, {"58", "120"}, {"61", "121"}, {"62", "104"}, {"65", "123"},
	{"75", "106"}, {"91", "907"}, {"94", "913"}, {"96", "909"},
}

// ActionCodesOneWay are read in one direction only: a 1993 peer's code
// with no own 1987 counterpart, and 68 (the switch's "response received
// too late", which 1993 knows as the issuer's time-out).
var ActionCodesOneWay = [...]struct{ From, To string }{
	{"68", "911"},
	{"911", "91"}, {"910", "91"}, {"912", "91"},
	{"400", "00"}, {"800", "00"},
}

// Fallbacks for codes in neither table: a 2-character code 1993 cannot
// read is sent as 909 (system malfunction); an unknown 3-digit code of
// the decline classes 1xx/2xx is read as 05 (do not honor), any other as
// 06 (error): an approval the switch does not know is never read as one.
const (
	fallbackAction      = "909"
	fallbackDecline     = "05"
	fallbackOtherAction = "06"
)

var codeTables = func() (to93, to87 map[string][]byte) {
	to93, to87 = map[string][]byte{}, map[string][]byte{}
	for _, p := range ActionCodes {
		to93[p.Response], to87[p.Action] = []byte(p.Action), []byte(p.Response)
	}
	for _, p := range ActionCodesOneWay {
		if len(p.From) == 2 {
			to93[p.From] = []byte(p.To)
		} else {
			to87[p.From] = []byte(p.To)
		}
	}
	return to93, to87
}

var code93, code87 = codeTables()

// digitCodes93 and digitCodes87 are the tables for all-digit codes, an
// index instead of a map lookup on every answer.
var digitCodes93, digitCodes87 = func() (t93 [100][]byte, t87 [1000][]byte) {
	for k, v := range code93 {
		if len(k) == 2 && allDigits([]byte(k)) {
			t93[int(k[0]-'0')*10+int(k[1]-'0')] = v
		}
	}
	for k, v := range code87 {
		if len(k) == 3 && allDigits([]byte(k)) {
			t87[int(k[0]-'0')*100+int(k[1]-'0')*10+int(k[2]-'0')] = v
		}
	}
	return t93, t87
}()

var (
	bFallbackAction  = []byte(fallbackAction)
	bFallbackDecline = []byte(fallbackDecline)
	bFallbackOther   = []byte(fallbackOtherAction)
)

// responseTo93 is 1993's action code for a 1987 response code.
func responseTo93(v []byte) []byte {
	if len(v) == 2 && allDigits(v) {
		if a := digitCodes93[int(v[0]-'0')*10+int(v[1]-'0')]; a != nil {
			return a
		}
		return bFallbackAction
	}
	if a, ok := code93[string(v)]; ok {
		return a
	}
	return bFallbackAction
}

// actionTo87 is the 1987 response code for a 1993 action code.
func actionTo87(v []byte) []byte {
	if len(v) == 3 && allDigits(v) {
		if r := digitCodes87[int(v[0]-'0')*100+int(v[1]-'0')*10+int(v[2]-'0')]; r != nil {
			return r
		}
	} else if r, ok := code87[string(v)]; ok {
		return r
	}
	if len(v) == 3 && (v[0] == '1' || v[0] == '2') {
		return bFallbackDecline
	}
	return bFallbackOther
}

// CodeTo1993 is the 1993 action code the switch sends for a 1987
// response code (the table, else the fallback).
func CodeTo1993(code string) string { return string(responseTo93([]byte(code))) }

// CodeFrom1993 is the 1987 response code the switch reads for a 1993
// action code (the table, else the fallback).
func CodeFrom1993(action string) string { return string(actionTo87([]byte(action))) }

// entryModes maps 1987's POS entry mode (22, first 2 digits) to 1993's
// card data input mode (22, position 7). 1993's '1' (manual, no
// terminal) is also read as 01.
var entryModes = [...][2]byte{
	{'0', '0'}, {'0', '1'}, {'0', '2'}, {'0', '3'}, {'0', '4'}, {'0', '5'},
	{'0', '7'}, {'8', '0'}, {'9', '0'}, {'9', '1'},
}
var inputModes = [...]byte{'0', '6', '2', '3', '4', '5', 'A', 'F', 'B', 'M'}

// entryModeTo93 builds 1993's 22 (an12) from 1987's (n3): position 7 from
// the entry mode (unknown: '0'), position 12 from the PIN entry
// capability (0 unknown → '1', 1 can accept → 'C' (up to 12), 2 cannot
// → '0'), every other position '0' (1987 does not say).
func entryModeTo93(v []byte, buf *[]byte) []byte {
	reserve(buf, 12)
	start := len(*buf)
	*buf = append(*buf, "000000000000"...)
	out := (*buf)[start:]
	if len(v) != 3 {
		return out
	}
	for i, e := range entryModes {
		if e[0] == v[0] && e[1] == v[1] {
			out[6] = inputModes[i]
		}
	}
	switch v[2] {
	case '0':
		out[11] = '1'
	case '1':
		out[11] = 'C'
	}
	return out
}

// entryModeTo87 is the inverse of entryModeTo93 for 1993's position 7
// and 12: PIN capture capability '0' → 2, '1' → 0, '4'..'9', 'A'..'C' → 1.
func entryModeTo87(v []byte, buf *[]byte) []byte {
	reserve(buf, 3)
	start := len(*buf)
	*buf = append(*buf, '0', '0', '0')
	out := (*buf)[start:]
	if len(v) != 12 {
		return out
	}
	for i, c := range inputModes {
		if c == v[6] {
			out[0], out[1] = entryModes[i][0], entryModes[i][1]
		}
	}
	if v[6] == '1' {
		out[0], out[1] = '0', '1'
	}
	switch c := v[11]; {
	case c == '0':
		out[2] = '2'
	case c >= '4' && c <= '9', c >= 'A' && c <= 'C':
		out[2] = '1'
	}
	return out
}

// reasonTo87 reads 1993's message reason code (25, n4) as 1987's POS
// condition code (n2): 00pp is pp; any other reason is 00 (normal), its
// original kept in the Carry.
func reasonTo87(v []byte) []byte {
	if v[0] == '0' && v[1] == '0' {
		return v[2:4]
	}
	return reason00
}

var reason00 = []byte("00")

var zeros11 = []byte("00000000000")

// original90To56 rewrites 1987's original data elements (90, n42: MTI,
// STAN, transmission date-time MMDDhhmmss, acquiring and forwarding
// institution ids n11 each) as 1993's (56, n..35: MTI, STAN, date-time
// YYMMDDhhmmss by the year rule, LL + acquiring id without its leading
// zeros). 1993 has no place for the forwarding id: the Carry keeps the
// whole 90 so that the issuer's echo reads back as it was sent.
func original90To56(v []byte, c *Carry, buf *[]byte) ([]byte, error) {
	if len(v) != 42 || !allDigits(v) {
		return nil, xerr(90, "not n42 original data elements")
	}
	mti, ok := mtiMap(v[0:4], true)
	if !ok {
		return nil, xerr(90, "original MTI has no 1993 form")
	}
	acq := v[20:31]
	for len(acq) > 1 && acq[0] == '0' {
		acq = acq[1:]
	}
	yy := yearFor(v[10:14], translateNow())
	reserve(buf, 35)
	start := len(*buf)
	*buf = append(append(*buf, mti...), v[4:10]...)
	*buf = append(*buf, '0'+byte(yy/10), '0'+byte(yy%10))
	*buf = append(*buf, v[10:20]...)
	*buf = append(*buf, '0'+byte(len(acq)/10), '0'+byte(len(acq)%10))
	*buf = append(*buf, acq...)
	out := (*buf)[start:]
	if c != nil {
		c.sent.ok = true
		copy(c.sent.f90[:], v)
		c.sent.f56.n = uint8(len(out)) // #nosec G115 -- at most 35
		copy(c.sent.f56.b[:], out)
	}
	return out, nil
}

// original56To90 is the inverse: the forwarding id is zeros, unless the
// 56 is the echo of one the switch sent (then the 90 it came from).
func original56To90(v []byte, c *Carry, buf *[]byte) ([]byte, error) {
	if c != nil && c.sent.ok && string(c.sent.f56.value()) == string(v) {
		return c.sent.f90[:], nil
	}
	if len(v) < 24 || !allDigits(v) {
		return nil, xerr(56, "not n..35 original data elements")
	}
	mti, ok := mtiMap(v[0:4], false)
	n := int(v[22]-'0')*10 + int(v[23]-'0')
	if !ok || n < 1 || n > 11 || len(v) != 24+n {
		return nil, xerr(56, "original data elements have no 1987 form")
	}
	reserve(buf, 42)
	start := len(*buf)
	*buf = append(append(*buf, mti...), v[4:10]...)
	*buf = append(*buf, v[12:22]...)
	*buf = append(*buf, zeros11[:11-n]...)
	*buf = append(*buf, v[24:]...)
	*buf = append(*buf, zeros11...)
	return (*buf)[start:], nil
}
