package trace

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scanned returns a view of a message's frame, failing on a bad frame.
func scanned(t *testing.T, frame []byte) *iso.View {
	t.Helper()
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	v := new(iso.View)
	require.NoError(t, sc.Scan(frame, v))
	return v
}

func fieldOf(t *testing.T, m Message, id int) string {
	t.Helper()
	return string(scanned(t, m.Frame).Field(id))
}

func TestLoadFixtureJSONL(t *testing.T) {
	msgs, format, err := Load(filepath.Join(fixtureDir, "demo.jsonl"))
	require.NoError(t, err)
	assert.Equal(t, FormatJSONL, format)
	require.Len(t, msgs, 20)
	assert.Equal(t, time.Duration(0), msgs[0].At)
	assert.Equal(t, 120*time.Millisecond, msgs[1].At)
	assert.Equal(t, []string{"51"}, msgs[2].Expect)
	assert.Equal(t, []string{"15"}, msgs[5].Expect)
	assert.Equal(t, "4111111111110051", fieldOf(t, msgs[2], 2))
	assert.Equal(t, "000000001000", fieldOf(t, msgs[0], 4), "a JSON number is packed as the spec says")
	assert.Equal(t, "100001", fieldOf(t, msgs[0], 11))
	assert.Equal(t, "0800", fieldOf(t, msgs[9], 0))
	assert.Equal(t, 4, msgs[0].Line)
	for _, m := range msgs {
		assert.True(t, iso.IsRequestMTI(scanned(t, m.Frame).MTI()))
	}
}

func TestLoadFixtureJPOS(t *testing.T) {
	msgs, format, err := Load(filepath.Join(fixtureDir, "demo-jpos.xml"))
	require.NoError(t, err)
	assert.Equal(t, FormatJPOSXML, format)
	require.Len(t, msgs, 10)
	wantCodes := []string{"00", "00", "00", "51", "00", "15", "00", "51", "00", "00"}
	for i, m := range msgs {
		assert.Equal(t, []string{wantCodes[i]}, m.Expect, "message %d", i)
		assert.Equal(t, time.Duration(i)*180*time.Millisecond, m.At, "message %d: both at styles give one timeline", i)
	}
	assert.Equal(t, "0123456789ABCDEF", fieldOf(t, msgs[2], 52), "binary field 52 from hex")
	assert.False(t, scanned(t, msgs[4].Frame).Has(48), "non-composite subfields are skipped")
	assert.Equal(t, "0800", fieldOf(t, msgs[0], 0))
}

func TestLoadFixtureCaptures(t *testing.T) {
	_, want := fixtureConversation(t, "192.0.2.10:40100", "192.0.2.20:8583")
	for name, format := range map[string]Format{"demo.pcap": FormatPCAP, "demo.pcapng": FormatPCAPNG} {
		t.Run(name, func(t *testing.T) {
			msgs, f, err := Load(filepath.Join(fixtureDir, name))
			require.NoError(t, err)
			assert.Equal(t, format, f)
			require.Len(t, msgs, len(want))
			for i, m := range msgs {
				assert.Equal(t, want[i].Frame, m.Frame, "frame %d reassembled", i)
				assert.Equal(t, want[i].Expect[:1], m.Expect, "frame %d expectation", i)
				assert.Positive(t, m.Line)
				if i > 0 {
					assert.Greater(t, m.At, msgs[i-1].At)
				}
			}
			assert.Equal(t, time.Duration(0), msgs[0].At)
		})
	}
}

func TestDetectByContentNotExtension(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtureDir, "demo-jpos.xml"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "misleading.jsonl")
	require.NoError(t, os.WriteFile(path, append([]byte("\ufeff \n\t"), data...), 0o600))
	_, format, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, FormatJPOSXML, format)
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "  \n", "t.jsonl: empty trace"},
		{"unknown format", "hello", "t.jsonl: unrecognized trace format (want JSON Lines, jPOS XML, pcap or pcapng)"},
		{"bad JSON", "{\"0\":\"0100\",\"11\":\"000001\"}\n\n{\"0\":\"0100\",", "t.jsonl:3: invalid JSON: unexpected end of JSON input (at byte 12)"},
		{"unknown key", `{"0":"0100","x":1}`, `t.jsonl:1: field "x": unknown field (want a field number, "t" or "expect")`},
		{"field not in range", `{"0":"0100","200":"1"}`, `t.jsonl:1: field "200": field number out of range 0..128`},
		{"field not in spec", `{"0":"0100","65":"1"}`, ""},
		{"bad numeric", `{"0":"0100","4":"12x"}`, `t.jsonl:1: field "4": bad value: failed to convert into number`},
		{"too long", `{"0":"0100","4":"1234567890123"}`, `t.jsonl:1: field "4": does not pack: failed to encode length: field length: 13 should be fixed: 12`},
		{"PAN withheld", `{"0":"0100","2":"41111111111111111111"}`, `t.jsonl:1: field "2": does not pack (length 20, spec length 19; details withheld for card data)`},
		{"response MTI", `{"0":"0110"}`, `t.jsonl:1: field "0": MTI "0110" is not a request`},
		{"no MTI", `{"11":"000001"}`, `t.jsonl:1: field "0": missing MTI`},
		{"bad expect", `{"0":"0100","expect":"000"}`, `t.jsonl:1: field "expect": response code "000": want 2 letters or digits`},
		{"bad t", `{"0":"0100","t":"yesterday"}`, `t.jsonl:1: field "t": not an RFC 3339 time`},
		{"mixed t", "{\"0\":\"0100\",\"t\":1}\n{\"0\":\"0100\",\"t\":\"2024-01-01T00:00:00Z\"}", `t.jsonl:2: field "t": mixes seconds and RFC 3339 times (line 1 has the other kind)`},
		{"missing t", "{\"0\":\"0100\",\"t\":1}\n{\"0\":\"0100\"}", `t.jsonl:2: field "t": missing (other messages have one)`},
		{"jpos bad at", `<log at="soon"><send><isomsg><field id="0" value="0100"/></isomsg></send></log>`,
			`t.jsonl:1: field "at": unrecognized time (want "Mon Nov 24 00:00:03 EST 2014.292" or ISO 8601)`},
		{"jpos bad binary", `<log><send><isomsg><field id="0" value="0100"/><field id="52" type="binary" value="zz"/></isomsg></send></log>`,
			`t.jsonl:1: field "52": type="binary" value is not hex`},
		{"jpos bad XML", "<log>\n<send><isomsg><field id=\"0\" value=\"0100\"></isomsg>\n</send></log>\n<log><1/></log>", "t.jsonl:4: XML: XML syntax error on line 4: invalid XML name: 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse(strings.NewReader(tc.in), "t.jsonl")
			if tc.want == "" {
				require.Error(t, err)
				return
			}
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestJSONLTiming(t *testing.T) {
	in := `{"0":"0100","t":"2024-05-01T10:00:00Z"}
{"0":"0100","t":"2024-05-01T12:00:01.5+02:00"}
`
	msgs, _, err := Parse(strings.NewReader(in), "t.jsonl")
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{0, 1500 * time.Millisecond}, []time.Duration{msgs[0].At, msgs[1].At})

	msgs, _, err = Parse(strings.NewReader("{\"0\":\"0200\"}\n{\"0\":\"0800\"}"), "t.jsonl")
	require.NoError(t, err)
	assert.Equal(t, NoTiming, msgs[0].At)
	assert.Equal(t, NoTiming, msgs[1].At)
}

func TestJPOSTimeStyles(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"Mon Nov 24 00:00:03 EST 2014.292", "Mon Nov 24 00:00:04 EST 2014.500"},
		{"Sun Mar 9 01:59:59 EST 2014.000", "Sun Mar 9 03:00:00 EDT 2014.208"}, // across the DST change
		{"2014-11-24T00:00:03.292-05:00", "2014-11-24T05:00:04.500Z"},
		{"2014-11-24T00:00:03.292", "2014-11-24 00:00:04.500"},
		{"2014-11-24T00:00:03.292-05:00[America/New_York]", "2014-11-24T00:00:04.5-05:00[America/New_York]"},
	} {
		in := `<logger><log at="` + tc.a + `"><send><isomsg><field id="0" value="0100"/><field id="11" value="000001"/></isomsg></send></log>
<log at="` + tc.b + `"><send><isomsg><field id="0" value="0100"/><field id="11" value="000002"/></isomsg></send></log></logger>`
		msgs, _, err := Parse(strings.NewReader(in), "j.xml")
		require.NoError(t, err, tc.a)
		require.Len(t, msgs, 2)
		assert.Equal(t, 1208*time.Millisecond, msgs[1].At, tc.a)
	}
}

func TestJPOSWithoutRoot(t *testing.T) {
	in := `<?xml version="1.0"?>
<log realm="c" at="2024-01-01T00:00:00Z"><send><isomsg><field id="0" value="0200"/><field id="11" value="7"/></isomsg></send></log>
<log realm="c"><receive><isomsg><field id="0" value="0210"/><field id="11" value="7"/><field id="39" value="05"/></isomsg></receive></log>
<log realm="s"><send><isomsg><field id="0" value="0210"/><field id="11" value="8"/><field id="39" value="00"/></isomsg></send></log>
`
	msgs, format, err := Parse(strings.NewReader(in), "j.xml")
	require.NoError(t, err)
	assert.Equal(t, FormatJPOSXML, format)
	require.Len(t, msgs, 1, "sent responses are not requests")
	assert.Equal(t, []string{"05"}, msgs[0].Expect)
	assert.Equal(t, 2, msgs[0].Line)
}

func TestCaptureLinkTypesAndGaps(t *testing.T) {
	c, want := fixtureConversation(t, "127.0.0.1:40100", "127.0.0.1:8583")
	msgs, format, err := Parse(bytes.NewReader(writePCAP(t, linkSLL, c.pkts)), "sll.pcap")
	require.NoError(t, err)
	assert.Equal(t, FormatPCAP, format)
	require.Len(t, msgs, len(want))
	assert.Equal(t, want[3].Frame, msgs[3].Frame)

	c6, _ := fixtureConversation(t, "[::1]:40100", "[::1]:8583")
	msgs, format, err = Parse(bytes.NewReader(writePCAPNG(t, linkEthernet, c6.pkts)), "eth6.pcapng")
	require.NoError(t, err)
	assert.Equal(t, FormatPCAPNG, format)
	require.Len(t, msgs, len(want))

	// Drop a data segment in the middle: reassembly must refuse the gap.
	var lossy []capPacket
	for i, p := range c.pkts {
		if i != 5 {
			lossy = append(lossy, p)
		}
	}
	_, _, err = Parse(bytes.NewReader(writePCAP(t, linkEthernet, lossy)), "lossy.pcap")
	require.ErrorContains(t, err, "lossy.pcap: flow 127.0.0.1:40100->127.0.0.1:8583: ")
	require.ErrorContains(t, err, "bytes missing before packet")
}

func TestCaptureWithoutHandshake(t *testing.T) {
	c, want := fixtureConversation(t, "10.1.1.1:5000", "10.1.1.2:8583")
	msgs, _, err := Parse(bytes.NewReader(writePCAP(t, linkEthernet, c.pkts[3:])), "mid.pcap")
	require.NoError(t, err)
	require.Len(t, msgs, len(want))
	assert.Equal(t, want[0].Frame, msgs[0].Frame)
}

// jPOS logs a fixed-length field as the application set it; the frame
// carries it padded as jPOS packs it: String fields with spaces on the
// right, numeric ones with zeros on the left. A short STAN still matches
// its response's, which jPOS logs as unpacked.
func TestLoadJPOSShortFixedFields(t *testing.T) {
	msgs, _, err := Load(filepath.Join(fixtureDir, "jpos-short-fields.xml"))
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	for id, want := range map[int]string{41: "TERM 01 ", 42: "SHOP 42        ", 3: "000000", 4: "000000001000",
		11: "000017", 22: "051"} {
		assert.Equal(t, want, fieldOf(t, msgs[0], id), "field %d", id)
	}
	assert.Equal(t, []string{"00"}, msgs[0].Expect)
	assert.Equal(t, "000018", fieldOf(t, msgs[1], 11))

	long := `<log at="2026-12-07T10:15:00.000Z"><send><isomsg><field id="0" value="0100"/>` +
		`<field id="41" value="TERMINAL9"/></isomsg></send></log>`
	_, _, err = Parse(strings.NewReader(long), "long.xml")
	require.ErrorContains(t, err, `field "41"`, "too long stays refused, against its field")
}

// A recorded trace notes its dialect in a leading comment that readers
// skip; the note is found among the leading comments only.
func TestDialectNote(t *testing.T) {
	var b strings.Builder
	require.NoError(t, WriteDialectNote(&b, "iso93ascii"))
	b.WriteString(`{"0":"0100","11":"000001"}` + "\n")
	msgs, _, err := Parse(strings.NewReader(b.String()), "t.jsonl")
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, "iso93ascii", notedDialect(strings.NewReader(b.String())))
	assert.Equal(t, "iso87binary", notedDialect(strings.NewReader("\n# recorded\n# dialect: iso87binary\n{}")))
	assert.Equal(t, "", notedDialect(strings.NewReader(`{"0":"0100"}`+"\n# dialect: iso87binary\n")))
	assert.Equal(t, "", notedDialect(strings.NewReader("<log/>")))
}
