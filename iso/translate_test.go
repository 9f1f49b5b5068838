package iso

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixedNow() time.Time { return time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC) }

// fixClock makes the year rule deterministic: jPOS's 1993 frames were
// packed on 2025-03-14.
func fixClock(t testing.TB) {
	t.Helper()
	old := translateNow
	translateNow = fixedNow
	t.Cleanup(func() { translateNow = old })
}

func translatorFor(t testing.TB, name string) *Translator {
	t.Helper()
	d, err := LookupDialect(name)
	require.NoError(t, err)
	tr, err := NewTranslator(d)
	require.NoError(t, err)
	return tr
}

func jposByName(t testing.TB) map[string]map[string][]byte {
	out := map[string]map[string][]byte{}
	for _, f := range readJPOSFrames(t) {
		raw, err := hex.DecodeString(f.Hex)
		require.NoError(t, err)
		if out[f.Dialect] == nil {
			out[f.Dialect] = map[string][]byte{}
		}
		out[f.Dialect][f.Name] = raw
	}
	return out
}

// bothPaths runs the fast path and moov's, requires them equal, and
// returns the result.
func bothPaths(t *testing.T, tr *Translator, msg []byte, c *Carry, toCanon bool) ([]byte, error) {
	t.Helper()
	var cm Carry
	if c != nil {
		cm = *c
	}
	st := &xstate{buf: make([]byte, 0, 64)}
	fast, ferr := tr.fast(st, nil, msg, c, toCanon)
	require.NotErrorIs(t, ferr, errFastDecode, "the fast path declined a frame jPOS packed")
	slow, serr := tr.moov(nil, msg, carryOrNil(c, &cm), toCanon)
	if ferr != nil || serr != nil {
		require.Error(t, ferr)
		require.Error(t, serr)
		return nil, ferr
	}
	require.Equal(t, hex.EncodeToString(slow), hex.EncodeToString(fast), "fast path != moov path")
	if c != nil {
		require.Equal(t, cm, *c, "the carries differ")
	}
	return fast, nil
}

func carryOrNil(orig, copied *Carry) *Carry {
	if orig == nil {
		return nil
	}
	return copied
}

// Every jPOS frame of a translated dialect reads as the canonical frame
// jPOS's iso87ascii packager made of the same 1987 values, and goes back
// byte for byte.
func TestTranslateGoldenRoundTrip(t *testing.T) {
	fixClock(t)
	frames := jposByName(t)
	for _, name := range []string{"iso87binary", "iso93ascii", "iso93binary"} {
		tr := translatorFor(t, name)
		for fname, raw := range frames[name] {
			t.Run(name+"/"+fname, func(t *testing.T) {
				var c Carry
				canon, err := bothPaths(t, tr, raw, &c, true)
				require.NoError(t, err)
				if name == "iso87binary" {
					assert.Equal(t, hex.EncodeToString(frames["iso87ascii"][fname]), hex.EncodeToString(canon))
				}
				back, err := bothPaths(t, tr, canon, &c, false)
				require.NoError(t, err)
				assert.Equal(t, hex.EncodeToString(raw), hex.EncodeToString(back))
			})
		}
	}
}

// The canonical frames of jPOS go out in iso87binary and iso87ebcdic and
// come back unchanged; in iso87binary they are jPOS's own bytes.
func TestTranslateGoldenFromCanon(t *testing.T) {
	fixClock(t)
	frames := jposByName(t)
	for _, name := range []string{"iso87binary", "iso87ebcdic", "iso93ascii", "iso93binary"} {
		tr := translatorFor(t, name)
		for fname, raw := range frames["iso87ascii"] {
			t.Run(name+"/"+fname, func(t *testing.T) {
				out, err := bothPaths(t, tr, raw, nil, false)
				require.NoError(t, err)
				if name == "iso87binary" {
					assert.Equal(t, hex.EncodeToString(frames["iso87binary"][fname]), hex.EncodeToString(out))
				}
				back, err := bothPaths(t, tr, out, nil, true)
				require.NoError(t, err)
				assert.Equal(t, hex.EncodeToString(raw), hex.EncodeToString(back))
			})
		}
	}
}

// A jPOS iso87binary 0100 reaches an iso93ascii issuer with the 1993
// layouts, and the issuer's answer comes back to the acquirer in jPOS's
// bytes (1987 echo fields exact, 39 mapped back).
func TestTranslate87BinaryTo93ASCII(t *testing.T) {
	fixClock(t)
	frames := jposByName(t)
	acq, iss := translatorFor(t, "iso87binary"), translatorFor(t, "iso93ascii")
	var c Carry
	canon, err := bothPaths(t, acq, frames["iso87binary"]["0100-auth"], &c, true)
	require.NoError(t, err)
	out, err := bothPaths(t, iss, canon, &c, false)
	require.NoError(t, err)
	v := unpackValues(t, iss, out)
	assert.Equal(t, "1100", v[0])
	assert.Equal(t, "250314092653", v[12])
	assert.Equal(t, "00000050000C", v[22])
	assert.Equal(t, "100", v[24])
	assert.Equal(t, "0000", v[25])
	assert.NotContains(t, v, 13)

	// The issuer answers in 1993 (jPOS's 1110 carries other 12/22/25: its
	// own echo); the acquirer gets jPOS's 1987 0110 back.
	ans := frames["iso93ascii"]["1110-auth-response"]
	canonAns, err := bothPaths(t, iss, ans, &c, true)
	require.NoError(t, err)
	back, err := bothPaths(t, acq, canonAns, &c, false)
	require.NoError(t, err)
	bv := unpackValues(t, acq, back)
	assert.Equal(t, "0110", bv[0])
	assert.Equal(t, "00", bv[39])
	assert.Equal(t, "092653", bv[12])
	assert.Equal(t, "0314", bv[13])
}

// A 1993 acquirer through a 1993 issuer: the issuer sees the acquirer's
// values exactly, and the acquirer gets the issuer's action code and its
// own echo fields exactly, although canonical 39 is 2 characters.
func TestTranslate93Through93(t *testing.T) {
	fixClock(t)
	frames := jposByName(t)
	acq, iss := translatorFor(t, "iso93binary"), translatorFor(t, "iso93ascii")
	var c Carry
	canon, err := bothPaths(t, acq, frames["iso93binary"]["1100-auth"], &c, true)
	require.NoError(t, err)
	out, err := bothPaths(t, iss, canon, &c, false)
	require.NoError(t, err)
	assert.Equal(t, hex.EncodeToString(frames["iso93ascii"]["1100-auth"]), hex.EncodeToString(out))
	ans := bytes.Replace(frames["iso93ascii"]["1110-auth-response"], []byte("AB12CD000"), []byte("AB12CD123"), 1)
	canonAns, err := bothPaths(t, iss, ans, &c, true)
	require.NoError(t, err)
	assert.Equal(t, "65", unpackValues(t, translatorFor(t, "iso87ascii"), canonAns)[39])
	back, err := bothPaths(t, acq, canonAns, &c, false)
	require.NoError(t, err)
	want := unpackValues(t, iss, ans)
	got := unpackValues(t, acq, back)
	assert.Equal(t, want, got)
}

func unpackValues(t *testing.T, tr *Translator, msg []byte) map[int]string {
	t.Helper()
	var m vals
	st := &xstate{buf: make([]byte, 0, 64)}
	require.NoError(t, tr.codec.decode(msg, &m, &st.buf))
	out := map[int]string{}
	for id := 0; id <= maxFieldID; id++ {
		if m.has(id) {
			out[id] = string(m.v[id])
		}
	}
	return out
}

// Echo, sign-on and sign-off: 0800 with 70 ↔ 1804 with 24.
func TestTranslateNetworkManagement(t *testing.T) {
	fixClock(t)
	iss := translatorFor(t, "iso93ascii")
	for nm, fc := range map[string]string{"301": "831", "001": "801", "002": "802"} {
		canon := canonMsg(t, "0800", map[int]string{7: "0314092653", 11: "000001", 70: nm})
		out, err := bothPaths(t, iss, canon, nil, false)
		require.NoError(t, err)
		v := unpackValues(t, iss, out)
		assert.Equal(t, map[int]string{0: "1804", 7: "0314092653", 11: "000001", 24: fc}, v)
		back, err := bothPaths(t, iss, out, nil, true)
		require.NoError(t, err)
		assert.Equal(t, hex.EncodeToString(canon), hex.EncodeToString(back))
	}
	_, err := bothPaths(t, iss, canonMsg(t, "0800", map[int]string{11: "000001", 70: "101"}), nil, false)
	assertTranslateErr(t, err, 70)
}

// canonMsg packs a canonical message with moov.
func canonMsg(t *testing.T, mti string, fields map[int]string) []byte {
	t.Helper()
	msg := NewMessage(Spec87())
	msg.MTI(mti)
	for id, v := range fields {
		require.NoError(t, setField(msg, id, v))
	}
	b, err := msg.Pack()
	require.NoError(t, err)
	return b
}

func assertTranslateErr(t *testing.T, err error, field int) {
	t.Helper()
	var te *TranslateError
	require.True(t, errors.As(err, &te), "want a *TranslateError, got %v", err)
	assert.Equal(t, field, te.Field, te.Error())
	assert.Contains(t, te.Error(), "field ")
}

// Fields that cannot be expressed are refused naming the field, and the
// error never carries the value.
func TestTranslateErrorsNameTheField(t *testing.T) {
	fixClock(t)
	base := map[int]string{3: "000000", 4: "000000001000", 7: "0314092653", 11: "000001", 12: "092653", 13: "0314"}
	with := func(id int, v string) map[int]string {
		m := map[int]string{}
		for k, x := range base {
			m[k] = x
		}
		m[id] = v
		return m
	}
	cases := []struct {
		name    string
		dialect string
		mti     string
		fields  map[int]string
		field   int
	}{
		{"no 1993 MTI", "iso93ascii", "0600", base, 0},
		{"meaning differs (15)", "iso93ascii", "0100", with(15, "0314"), 15},
		{"1987 56 toward 1993", "iso93ascii", "0100", with(56, "X"), 56},
		{"track 2 with a D separator", "iso87binary", "0100", with(35, "4012000033000025D2712"), 35},
		{"55 not hex", "iso87binary", "0100", with(55, "9F2608ZZ"), 55},
		{"55 too long for 1993", "iso93ascii", "0100", with(55, strings.Repeat("AB", 256)), 55},
		{"letters in a BCD field", "iso87binary", "0100", with(37, "12345678901A"), -1},
		{"12 without a date", "iso93ascii", "0100", map[int]string{11: "000001", 12: "092653"}, 12},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := translatorFor(t, tc.dialect)
			_, err := bothPaths(t, tr, canonMsg(t, tc.mti, tc.fields), nil, false)
			if tc.field < 0 {
				require.NoError(t, err) // 37 is ASCII in iso87binary
				return
			}
			assertTranslateErr(t, err, tc.field)
			assert.NotContains(t, err.Error(), "4012")
		})
	}
}

// The MAC cannot survive re-encoding: translation removes 64 and 128.
func TestTranslateRemovesMAC(t *testing.T) {
	tr := translatorFor(t, "iso87binary")
	canon := canonMsg(t, "0100", map[int]string{11: "000001", 64: "0102030405060708", 128: "0102030405060708"})
	out, err := bothPaths(t, tr, canon, nil, false)
	require.NoError(t, err)
	v := unpackValues(t, tr, out)
	assert.Equal(t, map[int]string{0: "0100", 11: "000001"}, v)
}

// Every code the switch generates has its 1993 form, and the table reads
// back both ways.
func TestSwitchCodesHave1993Forms(t *testing.T) {
	for _, sc := range SwitchCodes {
		a := CodeTo1993(string(sc.Code))
		assert.Len(t, a, 3, sc.Code)
		listed := false
		for _, p := range ActionCodes {
			listed = listed || p.Response == string(sc.Code)
		}
		for _, p := range ActionCodesOneWay {
			listed = listed || p.From == string(sc.Code)
		}
		assert.True(t, listed, "switch code %s has no 1993 form in the tables", sc.Code)
		if sc.Code != CodeLate {
			assert.Equal(t, string(sc.Code), CodeFrom1993(a), sc.Code)
		}
	}
}

func TestActionCodeTable(t *testing.T) {
	required := map[string]string{"00": "000", "05": "100", "14": "111", "51": "116", "54": "101", "55": "117",
		"57": "119", "58": "120", "61": "121", "65": "123", "91": "907", "96": "909", "30": "904", "94": "913", "15": "908"}
	for r, a := range required {
		assert.Equal(t, a, CodeTo1993(r), r)
		assert.Equal(t, r, CodeFrom1993(a), a)
	}
	for _, p := range ActionCodes {
		assert.Equal(t, p.Action, CodeTo1993(p.Response))
		assert.Equal(t, p.Response, CodeFrom1993(p.Action))
	}
	assert.Equal(t, "91", CodeFrom1993("911"))
	assert.Equal(t, "909", CodeTo1993("Q7"), "unknown 2-character code")
	assert.Equal(t, "05", CodeFrom1993("199"), "unknown decline")
	assert.Equal(t, "06", CodeFrom1993("077"), "unknown approval class is not an approval")
}

// The README's code table is ActionCodes and ActionCodesOneWay.
func TestActionCodesMatchREADME(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, section, found := strings.Cut(string(readme), "#### 1987 response codes and 1993 action codes\n")
	require.True(t, found, "README section missing")
	var got [][3]string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "#") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) < 5 || !strings.HasPrefix(line, "| ") {
			continue
		}
		a, dir, b := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3])
		if strings.HasPrefix(a, "-") || strings.HasPrefix(a, "1987") {
			continue
		}
		got = append(got, [3]string{a, dir, b})
	}
	var want [][3]string
	for _, p := range ActionCodes {
		want = append(want, [3]string{p.Response, "↔", p.Action})
	}
	for _, p := range ActionCodesOneWay {
		if len(p.From) == 2 {
			want = append(want, [3]string{p.From, "→", p.To})
		} else {
			want = append(want, [3]string{p.To, "←", p.From})
		}
	}
	assert.ElementsMatch(t, want, got)
}

func TestYearRule(t *testing.T) {
	now := time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC)
	assert.Equal(t, 26, yearFor([]byte("0101"), now))
	assert.Equal(t, 25, yearFor([]byte("1231"), now))
	assert.Equal(t, 25, yearFor([]byte("1101"), now))
	assert.Equal(t, 26, yearFor([]byte("0301"), now))
	now = time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC)
	assert.Equal(t, 25, yearFor([]byte("1231"), now))
}

// Translating appends to the caller's buffer without allocating.
func TestTranslateDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	fixClock(t)
	frames := jposByName(t)
	for _, name := range []string{"iso87binary", "iso87ebcdic", "iso93ascii", "iso93binary"} {
		tr := translatorFor(t, name)
		canon := frames["iso87ascii"]["0110-auth-response"]
		var c Carry
		wire, err := tr.FromCanon(nil, canon, &c)
		require.NoError(t, err)
		buf, buf2 := make([]byte, 0, 4096), make([]byte, 0, 4096)
		allocs := testing.AllocsPerRun(200, func() {
			out, err := tr.ToCanon(buf[:0], wire, &c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.FromCanon(buf2[:0], out, &c); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, name)
	}
}

func TestNewDialectUserSpec(t *testing.T) {
	raw, err := os.ReadFile("../testdata/dialects/my-bank.json")
	require.NoError(t, err)
	d, err := NewDialect("my-bank", raw, 1987, Framing{Length: LengthBinary2})
	require.NoError(t, err)
	assert.False(t, d.Canonical())
	spec, err := d.Spec()
	require.NoError(t, err)
	assert.Contains(t, spec.Name, "my-bank")
	tr, err := NewTranslator(d)
	require.NoError(t, err)
	require.True(t, tr.codec.fast)
	frames := jposByName(t)
	for fname, raw := range frames["iso87ascii"] {
		t.Run(fname, func(t *testing.T) {
			out, err := bothPaths(t, tr, raw, nil, false)
			require.NoError(t, err)
			switch fname {
			case "0100-auth":
				// The MTI in EBCDIC, 2 and 32 behind EBCDIC LL prefixes.
				assert.True(t, bytes.HasPrefix(out, []byte{0xF0, 0xF1, 0xF0, 0xF0}))
				assert.Contains(t, hex.EncodeToString(out), "f1f6f4f7f6f1")
				assert.Contains(t, hex.EncodeToString(out), "f0f5f1f2f3f4f5")
			case "0100-track2":
				assert.Contains(t, hex.EncodeToString(out), "22"+hex.EncodeToString([]byte("4012000033000025=")))
			}
			back, err := bothPaths(t, tr, out, nil, true)
			require.NoError(t, err)
			assert.Equal(t, hex.EncodeToString(raw), hex.EncodeToString(back))
		})
	}
	_, err = NewDialect("bad", raw, 2003, Framing{})
	require.Error(t, err)
	_, err = NewDialect("bad", []byte(`{"name":"x","fields":{}}`), 1987, Framing{})
	require.Error(t, err)
}

func TestDialectCanonical(t *testing.T) {
	for _, d := range BuiltinDialects() {
		assert.Equal(t, d.SpecFile == Spec87File, d.Canonical(), d.Name)
	}
}

// A user dialect with a composite field goes through moov's full unpack
// and pack: the composite's value is its packed content, checked by
// moov's subfield specs.
func TestTranslateUserCompositeUsesMoov(t *testing.T) {
	raw, err := os.ReadFile("../testdata/dialects/with-composite.json")
	require.NoError(t, err)
	d, err := NewDialect("with-composite", raw, 1987, Framing{Length: LengthASCII4})
	require.NoError(t, err)
	tr, err := NewTranslator(d)
	require.NoError(t, err)
	require.False(t, tr.codec.fast, "a composite field is moov's")
	canon := canonMsg(t, "0100", map[int]string{11: "000001", 48: "AB05HELLO"})
	out, err := tr.FromCanon(nil, canon, nil)
	require.NoError(t, err)
	assert.Equal(t, string(canon), string(out), "the same layout on the wire")
	back, err := tr.ToCanon(nil, out, nil)
	require.NoError(t, err)
	assert.Equal(t, string(canon), string(back))

	_, err = tr.FromCanon(nil, canonMsg(t, "0100", map[int]string{11: "000001", 48: "AB99HELLO"}), nil)
	assertTranslateErr(t, err, 48)
}

// packIn packs values with tr's spec (moov), for frames no jPOS file has.
func packIn(t *testing.T, tr *Translator, mti string, fields map[int]string) []byte {
	t.Helper()
	msg := NewMessage(tr.spec)
	msg.MTI(mti)
	for id, v := range fields {
		require.NoError(t, msg.Field(id, v), "field %d", id)
	}
	b, err := msg.Pack()
	require.NoError(t, err)
	return b
}

// The switch's 0420 after a time-out reaches a 1993 issuer as a 1420
// (24 = 400, 39 = 911, 90 as 56), and the issuer's 1430 echoing that 56
// reads back as the 90 the switch sent, forwarding id included, so the
// switch matches it to the reversal it owes.
func TestTranslateReversalTo1993(t *testing.T) {
	fixClock(t)
	iss := translatorFor(t, "iso93ascii")
	orig90 := "0100" + "000042" + "0314092653" + "00000012345" + "00000067890"
	canon := canonMsg(t, "0420", map[int]string{2: "4761739001010010", 3: "000000", 4: "000000001000",
		7: "0314093000", 11: "000043", 39: "68", 90: orig90})
	var c Carry
	out, err := bothPaths(t, iss, canon, &c, false)
	require.NoError(t, err)
	v := unpackValues(t, iss, out)
	assert.Equal(t, "1420", v[0])
	assert.Equal(t, "400", v[24])
	assert.Equal(t, "911", v[39])
	assert.Equal(t, "1100"+"000042"+"250314092653"+"05"+"12345", v[56])

	ans := packIn(t, iss, "1430", map[int]string{2: v[2], 11: v[11], 24: "400", 39: "400", 56: v[56]})
	back, err := bothPaths(t, iss, ans, &c, true)
	require.NoError(t, err)
	bv := unpackValues(t, translatorFor(t, "iso87ascii"), back)
	assert.Equal(t, "0430", bv[0])
	assert.Equal(t, "00", bv[39])
	assert.Equal(t, orig90, bv[90])

	// Without the Carry the forwarding id cannot come back: it reads as zeros.
	back, err = bothPaths(t, iss, ans, nil, true)
	require.NoError(t, err)
	assert.Equal(t, orig90[:31]+"00000000000", unpackValues(t, translatorFor(t, "iso87ascii"), back)[90])
}

// A 1993 acquirer's own values come back in the switch's own answer
// (here 91, issuer down) byte for byte, the code as its 1993 form.
func TestTranslateEchoToAcquirer93(t *testing.T) {
	fixClock(t)
	frames := jposByName(t)
	acq := translatorFor(t, "iso93ascii")
	req := frames["iso93ascii"]["1100-auth"]
	var c Carry
	canon, err := bothPaths(t, acq, req, &c, true)
	require.NoError(t, err)
	cv := unpackValues(t, translatorFor(t, "iso87ascii"), canon)
	cv[39] = "91"
	delete(cv, 0)
	ansCanon := canonMsg(t, "0110", cv)
	out, err := bothPaths(t, acq, ansCanon, &c, false)
	require.NoError(t, err)
	want := unpackValues(t, acq, req)
	want[0], want[39] = "1110", "907"
	assert.Equal(t, want, unpackValues(t, acq, out))
}

// Hostile frames get an error naming the field, from both paths.
func TestTranslateHostileFramesNameTheField(t *testing.T) {
	frames := jposByName(t)
	auth := frames["iso87binary"]["0100-auth"] // 0100, bitmap, 2 (LL 16), 3, 4, ...
	cut := auth[:2+8+1+8+2]                    // inside field 3
	badNibble := bytes.Clone(auth)
	badNibble[2+8+1+8] = 0x0A // field 3's first digit
	badPrefix := bytes.Clone(auth)
	badPrefix[2+8] = 0x99 // field 2's LL above its maximum 19
	tr := translatorFor(t, "iso87binary")
	for name, tc := range map[string]struct {
		msg   []byte
		field int
	}{
		"cut inside 3": {cut, 3}, "nibble above 9 in 3": {badNibble, 3}, "LL above the maximum in 2": {badPrefix, 2},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := bothPaths(t, tr, tc.msg, nil, true)
			assertTranslateErr(t, err, tc.field)
		})
	}
	_, err := bothPaths(t, tr, append(bytes.Clone(auth), 0), nil, true)
	require.ErrorIs(t, err, ErrTrailingData)
	_, err = tr.ToCanon(nil, auth[:1], nil)
	assertTranslateErr(t, err, 0) // not even an MTI
}

// TestTranslateDirectTakesGoldenFrames: the plan's path translates every
// golden frame itself (the value-by-value path is only its fallback), to
// the bytes that path makes.
func TestTranslateDirectTakesGoldenFrames(t *testing.T) {
	fixClock(t)
	for _, f := range readJPOSFrames(t) {
		raw, err := hex.DecodeString(f.Hex)
		require.NoError(t, err)
		for _, name := range translatedDialects {
			toCanon := f.Dialect == name
			if !toCanon && f.Dialect != "iso87ascii" {
				continue
			}
			tr := translatorFor(t, name)
			var cd, cf Carry
			want, err := tr.fast(&xstate{buf: make([]byte, 0, 16)}, nil, raw, &cf, toCanon)
			if err != nil {
				continue // refused by the rules (an MTI 1993 has no form for, say)
			}
			got, ok := tr.direct(&xstate{buf: make([]byte, 0, 8192)}, nil, raw, &cd, toCanon)
			require.True(t, ok, "%s %s toCanon=%v: the plan's path declined", name, f.Name, toCanon)
			require.Equal(t, want, got, "%s %s toCanon=%v", name, f.Name, toCanon)
			require.Equal(t, cf, cd)
		}
	}
}

// TestYearForMatchesTimeDate holds the year rule's day arithmetic to
// time.Date's, out-of-range months and days included (the rule reads any
// two digits).
func TestYearForMatchesTimeDate(t *testing.T) {
	ref := func(mo, d int, now time.Time) int {
		now = now.UTC()
		best, bestDist := now.Year(), time.Duration(1<<62)
		for y := now.Year() - 1; y <= now.Year()+1; y++ {
			dist := time.Date(y, time.Month(mo), d, 12, 0, 0, 0, time.UTC).Sub(now).Abs()
			if dist < bestDist {
				best, bestDist = y, dist
			}
		}
		return best % 100
	}
	nows := []time.Time{
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2028, 2, 29, 12, 0, 0, 1, time.UTC),
		time.Date(2026, 7, 2, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 7, 2, 12, 0, 0, 0, time.FixedZone("x", 5*3600)),
		time.Date(2100, 3, 1, 6, 0, 0, 0, time.UTC),
	}
	for _, now := range nows {
		for mo := range 100 {
			for d := range 100 {
				mmdd := []byte{byte('0' + mo/10), byte('0' + mo%10), byte('0' + d/10), byte('0' + d%10)}
				require.Equal(t, ref(mo, d, now), yearFor(mmdd, now), "%s %s", mmdd, now)
			}
		}
	}
}
