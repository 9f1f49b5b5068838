package issuersim

import (
	"net"
	"testing"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
)

// hangGuard bounds every client read so that a broken simulator fails the
// test instead of hanging it. It is not a performance threshold.
const hangGuard = 30 * time.Second

// testClient is a bare issuer-link client: net.Dial, iso framing and moov
// messages, nothing from the switch.
type testClient struct {
	tb testing.TB
	nc net.Conn
	fr *iso.FrameReader
}

func dialSim(tb testing.TB, addr string) *testClient {
	tb.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = nc.Close() })
	return &testClient{tb: tb, nc: nc, fr: iso.NewFrameReader(nc, iso.DefaultMaxFrame)}
}

// send packs and writes m.
func (c *testClient) send(m *iso8583.Message) {
	c.tb.Helper()
	b, err := m.Pack()
	require.NoError(c.tb, err)
	c.sendRaw(b)
}

// sendRaw writes one frame around body.
func (c *testClient) sendRaw(body []byte) {
	c.tb.Helper()
	require.NoError(c.tb, iso.WriteFrame(c.nc, body))
}

// sendFrameErr writes one frame and returns the error, for use off the
// test goroutine.
func (c *testClient) sendFrameErr(body []byte) error { return iso.WriteFrame(c.nc, body) }

// recvRaw reads one frame and returns a copy of its body.
func (c *testClient) recvRaw() []byte {
	c.tb.Helper()
	require.NoError(c.tb, c.nc.SetReadDeadline(time.Now().Add(hangGuard)))
	body, err := c.fr.Next()
	require.NoError(c.tb, err)
	return append([]byte(nil), body...)
}

// recv reads and unpacks one frame.
func (c *testClient) recv() *iso8583.Message {
	c.tb.Helper()
	m := iso8583.NewMessage(iso.Spec87())
	require.NoError(c.tb, m.Unpack(c.recvRaw()))
	return m
}

func (c *testClient) roundTrip(m *iso8583.Message) *iso8583.Message {
	c.tb.Helper()
	c.send(m)
	return c.recv()
}

// newMsg builds a message of Spec87 from field id to value; field 52 takes
// raw bytes given as a string.
func newMsg(tb testing.TB, mti string, fields map[int]string) *iso8583.Message {
	tb.Helper()
	m := iso8583.NewMessage(iso.Spec87())
	m.MTI(mti)
	for id, v := range fields {
		var err error
		if id == 52 {
			err = m.BinaryField(id, []byte(v))
		} else {
			err = m.Field(id, v)
		}
		require.NoError(tb, err, "field %d", id)
	}
	return m
}

// authFields is a typical 0100: PAN, processing code, amount, date-time,
// STAN, RRN, terminal id.
func authFields(pan, amount, stan string) map[int]string {
	return map[int]string{
		2: pan, 3: "000000", 4: amount, 7: "1125175400", 11: stan,
		37: "533117000001", 41: "TERM0001",
	}
}

// startSim runs a simulator on a loopback port until the test ends and
// checks that Serve returns nil after Close. onReq may be nil.
func startSim(tb testing.TB, cfg config.Simulator, onReq func(Request)) *Sim {
	tb.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	s, err := New(cfg, nil)
	require.NoError(tb, err)
	s.OnRequest(onReq)
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	tb.Cleanup(func() {
		require.NoError(tb, s.Close())
		require.NoError(tb, <-served)
	})
	return s
}

// str reads field id as on the wire (numeric fields zero-padded).
func str(m *iso8583.Message, id int) string { return fieldString(m, id) }
