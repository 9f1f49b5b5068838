package iso

import (
	"math/bits"
	"time"
)

// translateNow is the clock of the year rule for field 12 (a variable so
// that tests fix it).
var translateNow = time.Now

// mtiPairs maps 1987 MTIs to their 1993 forms, both ways. Any other MTI
// cannot be translated between the versions (field 0 refused).
var mtiPairs = [...][2][4]byte{
	{m("0100"), m("1100")}, {m("0110"), m("1110")}, {m("0120"), m("1120")}, {m("0121"), m("1121")},
	{m("0130"), m("1130")}, {m("0200"), m("1200")}, {m("0210"), m("1210")}, {m("0220"), m("1220")},
	{m("0221"), m("1221")}, {m("0230"), m("1230")}, {m("0400"), m("1400")}, {m("0401"), m("1401")},
	{m("0410"), m("1410")}, {m("0420"), m("1420")}, {m("0421"), m("1421")}, {m("0430"), m("1430")},
	{m("0800"), m("1804")}, {m("0810"), m("1814")}, {m("0820"), m("1820")}, {m("0830"), m("1830")},
}

func m(s string) (b [4]byte) { copy(b[:], s); return b }

// mtiMap returns the other version's MTI (a slice of the table: no
// allocation), ok false when the MTI has no counterpart.
func mtiMap(v []byte, to93 bool) ([]byte, bool) {
	from, to := 0, 1
	if !to93 {
		from, to = 1, 0
	}
	if len(v) != 4 || v[0] != "01"[from] || !allDigits(v[1:]) {
		return nil, false
	}
	i := mtiIndex[from][int(v[1]-'0')*100+int(v[2]-'0')*10+int(v[3]-'0')] - 1
	if i < 0 {
		return nil, false
	}
	return mtiPairs[i][to][:], true
}

// mtiIndex finds an MTI's pair by its last three digits, one table per
// version (the first digit is the version's): 1 + the pair's index, 0 for
// none.
var mtiIndex = func() (t [2][1000]int8) {
	for i, pair := range mtiPairs {
		for v, mti := range pair {
			t[v][int(mti[1]-'0')*100+int(mti[2]-'0')*10+int(mti[3]-'0')] = int8(i + 1) // #nosec G115 -- 20 pairs
		}
	}
	return t
}()

// isAnswer: the MTI's third digit is odd (x1x0 response, x1x3 advice response).
func isAnswer(mti []byte) bool { return len(mti) == 4 && (mti[2]-'0')%2 == 1 }

// versionRefused are the fields whose meaning differs between 1987 and
// 1993 and that have no conversion rule: refused both ways (30 naming the
// field), never carried under the wrong meaning.
var versionRefused = func() (t [maxFieldID + 1]bool) {
	for _, id := range []int{15, 26, 28, 29, 30, 31, 53, 57, 58, 66, 71, 72, 82, 83, 84, 85,
		91, 92, 93, 94, 95, 96, 105, 106, 107, 108, 109, 110} {
		t[id] = true
	}
	return t
}()

// versionRefusedSet is versionRefused as presence words (bit id%64 of
// word id/64), to test a message's fields at once.
var versionRefusedSet = func() (set [3]uint64) {
	for id, r := range versionRefused {
		if r {
			set[id/64] |= 1 << uint(id%64)
		}
	}
	return set
}()

// refusedPresent is the first field of src refused between the versions, 0 when none.
func refusedPresent(src *vals) int {
	for w, word := range src.present {
		if word &= versionRefusedSet[w]; word != 0 {
			return w*64 + bits.TrailingZeros64(word)
		}
	}
	return 0
}

const reasonMeaning = "its meaning differs between 1987 and 1993 and no rule converts it"

// Carried values: the 1993 fields the canonical layout cannot hold as
// they were.
const (
	slot12 = iota
	slot13
	slot22
	slot24
	slot25
	slot39
	slot56
	numSlots
)

var slotField = [numSlots]int{12, 13, 22, 24, 25, 39, 56}

// maxCarried is the longest carried value: 1993's 56 (n..35).
const maxCarried = 35

type carried struct {
	ok bool
	n  uint8
	b  [maxCarried]byte
}

// carryHalf is what one message of a 1993 peer left: its MTI and the
// original values of the slots.
type carryHalf struct {
	ok   bool
	mti  [4]byte
	slot [numSlots]carried
}

// Carry holds, for one transaction, what the canonical form cannot hold:
// the original values of a 1993 peer's fields that the 1987 layout has no
// room for (12 n12, 13 effective date, 22 an12, 24 function code, 25 n4,
// 39 action code, 56 original data). A zero Carry is valid ("nothing
// carried"). Small and fixed-size (no pointers): it lives inside the
// switch's per-request struct. ToCanon of the request fills its request
// half, ToCanon of the answer its answer half; FromCanon toward a 1993
// issuer also notes the field 90 it turned into 56, so that the issuer's
// echo of that 56 reads back as the same 90.
type Carry struct {
	req, ans carryHalf
	sent     sentData
}

// sentData is the field 90 that FromCanon turned into a 56 toward a 1993
// issuer, and that 56.
type sentData struct {
	ok  bool
	f90 [42]byte
	f56 carried
}

// SetAnswer copies into c the answer half of from: what ToCanon of an
// answer remembered in from. A reader that translates an answer before it
// knows the transaction it answers (an issuer link's read loop) translates
// with a Carry of its own and hands this half to the transaction it then
// matches, instead of translating the answer a second time.
func (c *Carry) SetAnswer(from *Carry) { c.ans = from.ans }

func (h *carryHalf) fill(mti []byte, src *vals) {
	*h = carryHalf{ok: true}
	copy(h.mti[:], mti)
	for s, id := range slotField {
		if v, ok := src.get(id); ok && len(v) <= maxCarried {
			h.slot[s].ok, h.slot[s].n = true, uint8(len(v)) // #nosec G115 -- at most maxCarried
			copy(h.slot[s].b[:], v)
		}
	}
}

func (c *carried) value() []byte { return c.b[:c.n] }

// from93 applies the version rules to a 1993 message's values: dst gets
// the canonical values they make, and src keeps only the fields that are
// copied as they are.
func from93(st *xstate, c *Carry) error {
	src, dst := &st.src, &st.dst
	mti, ok := mtiMap(src.v[0], false)
	if !ok {
		return xerr(0, "MTI has no 1987 form")
	}
	if c != nil {
		h := &c.req
		if isAnswer(src.v[0]) {
			h = &c.ans
		}
		h.fill(src.v[0], src)
	}
	dst.set(0, mti)
	if err := from93Fields(st, c); err != nil {
		return err
	}
	if id := refusedPresent(src); id > 0 {
		return xerr(id, reasonMeaning)
	}
	if src.has(90) {
		return xerr(90, reasonMeaning)
	}
	for _, id := range [...]int{12, 13, 22, 24, 25, 39, 56} {
		src.del(id)
	}
	return nil
}

func from93Fields(st *xstate, c *Carry) error {
	src, dst := &st.src, &st.dst
	if v, ok := src.get(12); ok {
		if len(v) != 12 || !allDigits(v) {
			return xerr(12, "not YYMMDDhhmmss")
		}
		dst.set(12, v[6:12])
		dst.set(13, v[2:6])
	}
	if v, ok := src.get(22); ok {
		dst.set(22, entryModeTo87(v, &st.buf))
	}
	if v, ok := src.get(24); ok && dst.v[0][1] == '8' && !src.has(70) {
		nm, ok := netCodeFrom24(v)
		if !ok {
			return xerr(24, "function code has no 1987 network management code")
		}
		dst.set(70, nm)
	}
	if v, ok := src.get(25); ok {
		if len(v) != 4 || !allDigits(v) {
			return xerr(25, "not a 4-digit message reason code")
		}
		dst.set(25, reasonTo87(v))
	}
	if v, ok := src.get(39); ok {
		dst.set(39, actionTo87(v))
	}
	if v, ok := src.get(56); ok {
		f90, err := original56To90(v, c, &st.buf)
		if err != nil {
			return err
		}
		dst.set(90, f90)
	}
	return nil
}

// to93 applies the version rules to canonical values toward a 1993
// dialect: dst gets the values they make, and src keeps only the fields
// that are copied as they are.
func to93(st *xstate, c *Carry) error {
	src, dst := &st.src, &st.dst
	mti, ok := mtiMap(src.v[0], true)
	if !ok {
		return xerr(0, "MTI has no 1993 form")
	}
	dst.set(0, mti)
	if src.has(56) {
		return xerr(56, reasonMeaning)
	}
	if id := refusedPresent(src); id > 0 {
		return xerr(id, reasonMeaning)
	}
	if err := to93Fields(st, mti, c); err != nil {
		return err
	}
	restore(dst, src, mti, c)
	for _, id := range [...]int{12, 13, 22, 24, 25, 39, 90} {
		src.del(id)
	}
	if mti[1] == '8' {
		src.del(70)
	}
	return nil
}

func to93Fields(st *xstate, mti []byte, c *Carry) error {
	src, dst := &st.src, &st.dst
	if err := dateTime93(st); err != nil {
		return err
	}
	if v, ok := src.get(22); ok {
		dst.set(22, entryModeTo93(v, &st.buf))
	}
	fc, err := functionCode(mti, src)
	if err != nil {
		return err
	}
	if fc != nil {
		dst.set(24, fc)
	}
	if v, ok := src.get(25); ok {
		reserve(&st.buf, 4)
		start := len(st.buf)
		st.buf = append(append(st.buf, '0', '0'), v...)
		dst.set(25, st.buf[start:])
	}
	if v, ok := src.get(39); ok {
		dst.set(39, responseTo93(v))
	}
	if v, ok := src.get(90); ok {
		f56, err := original90To56(v, c, &st.buf)
		if err != nil {
			return err
		}
		dst.set(56, f56)
	}
	return nil
}

// dateTime93 builds 1993's 12 (YYMMDDhhmmss) from 12 (hhmmss), the date
// of 13 (MMDD, else that of 7) and the year rule.
func dateTime93(st *xstate) error {
	src, dst := &st.src, &st.dst
	v, ok := src.get(12)
	if !ok {
		if src.has(13) {
			return xerr(13, "a local date without 12 has no 1993 field")
		}
		return nil
	}
	date, ok := src.get(13)
	if !ok {
		if t7, ok7 := src.get(7); ok7 && len(t7) >= 4 {
			date, ok = t7[:4], true
		}
	}
	if !ok || len(date) != 4 || !allDigits(date) || len(v) != 6 {
		return xerr(12, "needs 13 (or 7) for its date")
	}
	yy := yearFor(date, translateNow())
	reserve(&st.buf, 12)
	start := len(st.buf)
	st.buf = append(append(append(st.buf, '0'+byte(yy/10), '0'+byte(yy%10)), date...), v...)
	dst.set(12, st.buf[start:])
	return nil
}

// yearFor is the year rule: of last year, this year and next year, the
// one that puts MMDD nearest to now (a terminal's date is at most hours
// away from the switch's, around new year on either side). It returns the
// year's last two digits.
func yearFor(mmdd []byte, now time.Time) int {
	mo := int(mmdd[0]-'0')*10 + int(mmdd[1]-'0')
	d := int(mmdd[2]-'0')*10 + int(mmdd[3]-'0')
	now = now.UTC()
	sec, nsec := now.Unix(), int64(now.Nanosecond())
	year := now.Year()
	// candidates are a year (365 or 366 days) apart: one nearer than 182
	// days is the nearest
	noon := unixDays(year, mo, d)*86400 + 12*3600
	if (time.Duration(noon-sec)*time.Second - time.Duration(nsec)).Abs() < 182*24*time.Hour {
		return year % 100
	}
	best, bestDist := year, time.Duration(1<<62)
	for y := year - 1; y <= year+1; y++ {
		// noon of MMDD in year y, normalised as time.Date does (month
		// first, then the day), without time.Date's cost on the path
		noon := unixDays(y, mo, d)*86400 + 12*3600
		dist := (time.Duration(noon-sec)*time.Second - time.Duration(nsec)).Abs()
		if dist < bestDist {
			best, bestDist = y, dist
		}
	}
	return best % 100
}

// unixDays is the day number (0 = 1970-01-01) of day d of month mo of
// year y, mo and d out of range counting on as time.Date does.
func unixDays(y, mo, d int) int64 {
	m := mo - 1
	y += m / 12
	if m %= 12; m < 0 {
		m, y = m+12, y-1
	}
	m++
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := m + 9
	if m > 2 {
		mp = m - 3
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// functionCode is 1993's field 24 for a canonical message: from the MTI,
// and for network management from 70 (301 echo → 831, 001 sign-on → 801,
// 002 sign-off → 802).
func functionCode(mti []byte, src *vals) ([]byte, error) {
	switch mti[1] {
	case '1':
		return fc100, nil
	case '2':
		return fc200, nil
	case '4':
		return fc400, nil
	case '8':
		v, ok := src.get(70)
		if !ok {
			return nil, xerr(70, "network management without 70 has no 1993 function code")
		}
		for i := range netPairs {
			if string(netPairs[i][0][:]) == string(v) {
				return netPairs[i][1][:], nil
			}
		}
		return nil, xerr(70, "network management code has no 1993 function code")
	}
	return nil, nil
}

var (
	fc100 = []byte("100")
	fc200 = []byte("200")
	fc400 = []byte("400")
)

// netPairs maps 1987's network management code (70) to 1993's function
// code (24).
var netPairs = [...][2][3]byte{{n3("301"), n3("831")}, {n3("001"), n3("801")}, {n3("002"), n3("802")}}

func n3(s string) (b [3]byte) { copy(b[:], s); return b }

func netCodeFrom24(v []byte) ([]byte, bool) {
	for i := range netPairs {
		if string(netPairs[i][1][:]) == string(v) {
			return netPairs[i][0][:], true
		}
	}
	return nil, false
}

// restore puts back, toward a 1993 peer, what the Carry kept: for a
// request, the 1993 acquirer's originals going to a 1993 issuer; for an
// answer, the acquirer's own values (byte-exact echo) and the 1993
// issuer's action code when it still means the canonical 39.
func restore(dst, src *vals, mti []byte, c *Carry) {
	if c == nil {
		return
	}
	var echoed [numSlots]bool
	if h := &c.req; h.ok && (string(h.mti[:]) == string(mti) || isAnswer(mti) && answers(h.mti[:], mti)) {
		for s := range slotField {
			id := slotField[s]
			if s == slot39 || !h.slot[s].ok || (!dst.has(id) && s != slot13) {
				continue
			}
			dst.set(id, h.slot[s].value())
			echoed[s] = true
		}
	}
	h := &c.ans
	if !isAnswer(mti) || !h.ok || string(h.mti[:]) != string(mti) {
		return
	}
	for s := range slotField {
		id := slotField[s]
		if s == slot39 || !h.slot[s].ok || (!dst.has(id) && s != slot13) || echoed[s] {
			continue
		}
		dst.set(id, h.slot[s].value())
	}
	if h.slot[slot39].ok && dst.has(39) {
		if orig := h.slot[slot39].value(); string(actionTo87(orig)) == string(src.v[39]) {
			dst.set(39, orig)
		}
	}
}

// answers: resp is the answer MTI to req (third digit one more).
func answers(req, resp []byte) bool {
	return req[0] == resp[0] && req[1] == resp[1] && req[2]+1 == resp[2] && req[3] == resp[3]
}
