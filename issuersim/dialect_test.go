package issuersim

import (
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
)

// dialectExchange sends msg (packed with d's spec) behind hdr and returns
// the answer's header and message, unpacked with d's spec.
func dialectExchange(t *testing.T, nc net.Conn, d iso.Dialect, hdr []byte, msg *iso8583.Message) ([]byte, *iso8583.Message) {
	t.Helper()
	b, err := msg.Pack()
	require.NoError(t, err)
	require.NoError(t, d.Framing.WriteFramed(nc, hdr, b))
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(hangGuard)))
	rh, body, err := iso.NewFramedReader(nc, d.Framing, 0).Next()
	require.NoError(t, err)
	spec, err := d.Spec()
	require.NoError(t, err)
	resp := iso8583.NewMessage(spec)
	require.NoError(t, resp.Unpack(body))
	return append([]byte(nil), rh...), resp
}

// A simulator in a TPDU dialect answers behind the TPDU with the NIIs
// swapped, in the dialect's binary encoding.
func TestSimDialectTPDU(t *testing.T) {
	sim := startSim(t, config.Simulator{Name: "pos", Listen: "127.0.0.1:0", Dialect: "iso87binary-tpdu",
		Rules: []config.SimRule{{PANSuffix: "0051", Code: "51"}}}, nil)
	d, err := iso.LookupDialect("iso87binary-tpdu")
	require.NoError(t, err)
	spec, err := d.Spec()
	require.NoError(t, err)
	nc, err := net.Dial("tcp", sim.Addr())
	require.NoError(t, err)
	defer nc.Close()
	for _, tc := range []struct{ pan, code string }{{"4111111111111111", "00"}, {"4111111111110051", "51"}} {
		m := iso8583.NewMessage(spec)
		m.MTI("0100")
		require.NoError(t, m.Field(2, tc.pan))
		require.NoError(t, m.Field(4, "000000001000"))
		require.NoError(t, m.Field(11, "000777"))
		hdr, resp := dialectExchange(t, nc, d, []byte{0x60, 0x00, 0x12, 0x00, 0x34}, m)
		assert.Equal(t, []byte{0x60, 0x00, 0x34, 0x00, 0x12}, hdr)
		mti, _ := resp.GetMTI()
		assert.Equal(t, "0110", mti)
		code, _ := resp.GetString(39)
		assert.Equal(t, tc.code, code)
		stan, _ := resp.GetString(11)
		assert.Equal(t, "000777", stan)
	}

	// A frame that is not behind a TPDU breaks the framing: the link closes.
	_, err = nc.Write([]byte{0x00, 0x06, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00})
	require.NoError(t, err)
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(hangGuard)))
	_, err = nc.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
}

// A simulator in a 1993 dialect reads 1993 MTIs and answers action codes.
func TestSimDialect1993(t *testing.T) {
	sim := startSim(t, config.Simulator{Name: "b93", Listen: "127.0.0.1:0", Dialect: "iso93binary",
		Rules: []config.SimRule{{PANSuffix: "0051", Code: "51"}}}, nil)
	d, err := iso.LookupDialect("iso93binary")
	require.NoError(t, err)
	spec, err := d.Spec()
	require.NoError(t, err)
	nc, err := net.Dial("tcp", sim.Addr())
	require.NoError(t, err)
	defer nc.Close()
	for _, tc := range []struct{ mti, pan, wantMTI, code string }{
		{"1100", "4111111111111111", "1110", "000"},
		{"1200", "4111111111110051", "1210", "116"},
		{"1420", "4111111111111111", "1430", "000"},
		{"1804", "", "1814", "000"},
	} {
		m := iso8583.NewMessage(spec)
		m.MTI(tc.mti)
		require.NoError(t, m.Field(11, "000001"))
		if tc.pan != "" {
			require.NoError(t, m.Field(2, tc.pan))
			require.NoError(t, m.Field(4, "000000001000"))
		} else {
			require.NoError(t, m.Field(24, "831"))
		}
		_, resp := dialectExchange(t, nc, d, nil, m)
		mti, _ := resp.GetMTI()
		assert.Equal(t, tc.wantMTI, mti)
		code, _ := resp.GetString(39)
		assert.Equal(t, tc.code, code, tc.mti)
		if tc.pan == "" {
			fc, _ := resp.GetString(24)
			assert.Equal(t, "831", fc, "the function code echoed")
		}
	}
}

// The README's 1993 action code list is what the simulator answers.
func TestActionCodesMatchREADME(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	start := strings.Index(string(readme), "field 39 carries the 1993 action code")
	require.GreaterOrEqual(t, start, 0, "README section missing")
	text := string(readme[start:])
	text = text[:strings.Index(text, "any other code")]
	pairs := regexp.MustCompile(`(\d\d)→(\d\d\d)`).FindAllStringSubmatch(text, -1)
	require.NotEmpty(t, pairs)
	s := &Sim{dialect: iso.Dialect{Version: 1993}}
	for _, m := range pairs {
		assert.Equal(t, m[2], s.wireCode(m[1]), "README says %s→%s", m[1], m[2])
	}
	assert.Contains(t, string(readme[start:]), "any other code "+iso.CodeTo1993("Q7"))
}
