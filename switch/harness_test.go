package switchd_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/issuersim"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/require"
)

// testLog discards logs unless -v: the tests assert on behaviour, and a
// separate test scans the log output for card data.
func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startSim runs an issuer simulator on a free loopback port.
func startSim(t testing.TB, sc config.Simulator) *issuersim.Sim {
	t.Helper()
	if sc.Listen == "" {
		sc.Listen = "127.0.0.1:0"
	}
	if sc.Name == "" {
		sc.Name = "sim"
	}
	sim, err := issuersim.New(sc, testLog(t))
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = sim.Serve() }()
	t.Cleanup(func() { _ = sim.Close(); <-done })
	return sim
}

// running is a switch under test.
type running struct {
	*switchd.Switch
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// startSwitch loads yaml (listen address forced to a free port), runs the
// switch and waits until every issuer named in wantUp has a link up.
func startSwitch(t testing.TB, yaml string, wantUp ...string) *running {
	t.Helper()
	return startSwitchLog(t, yaml, testLog(t), wantUp...)
}

// startSwitchLog is startSwitch with the switch logging to log.
func startSwitchLog(t testing.TB, yaml string, log *slog.Logger, wantUp ...string) *running {
	t.Helper()
	cfg, err := config.LoadBytes(t.Name()+".yaml", []byte(yaml))
	require.NoError(t, err)
	cfg.Listen.Address = "127.0.0.1:0"
	return runSwitch(t, cfg, wantUp, switchd.WithLogger(log))
}

// stop shuts the switch down and waits for Run to return.
func (r *running) stop() {
	r.cancel()
	<-r.done
	r.done <- nil // later calls return at once
}

// issuerYAML is one issuer block with short timeouts for tests.
func issuerYAML(name, timeout string, endpoints ...string) string {
	return fmt.Sprintf(`  - name: %s
    endpoints: [%s]
    timeout: %s
    connect_timeout: 2s
    reconnect_min: 10ms
    reconnect_max: 100ms
`, name, strings.Join(endpoints, ", "), timeout)
}

func dial(t testing.TB, addr string) *acqclient.Client {
	t.Helper()
	c, err := acqclient.Dial(addr, 10*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// send builds r, sends it and returns the response.
func send(t testing.TB, c *acqclient.Client, r acqclient.Request) *iso8583.Message {
	t.Helper()
	m, err := r.Message()
	require.NoError(t, err)
	resp, err := c.Send(m)
	require.NoError(t, err)
	return resp
}

func str(t testing.TB, m *iso8583.Message, id int) string {
	t.Helper()
	v, err := m.GetString(id)
	require.NoError(t, err)
	return v
}

func auth(pan string, amount int64, stan int) acqclient.Request {
	return acqclient.Request{PAN: pan, Amount: amount, STAN: stan,
		RRN: fmt.Sprintf("%012d", stan), Terminal: "TERM0001", Merchant: "MERCHANT0000001"}
}

// rawConn is an acquirer that writes frames by hand, for input no library
// would produce.
type rawConn struct {
	net.Conn
	fr *iso.FrameReader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{Conn: c, fr: iso.NewFrameReader(c, 65535)}
}

func (c *rawConn) write(t testing.TB, body []byte) {
	t.Helper()
	require.NoError(t, iso.WriteFrame(c, body))
}

// read returns the next response, unpacked.
func (c *rawConn) read(t testing.TB) *iso8583.Message {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	body, err := c.fr.Next()
	require.NoError(t, err)
	m := iso8583.NewMessage(iso.Spec87())
	require.NoError(t, m.Unpack(body))
	return m
}

func pack(t testing.TB, r acqclient.Request) []byte {
	t.Helper()
	m, err := r.Message()
	require.NoError(t, err)
	b, err := m.Pack()
	require.NoError(t, err)
	return b
}

func mti(t testing.TB, m *iso8583.Message) string {
	t.Helper()
	v, err := m.GetMTI()
	require.NoError(t, err)
	return v
}

// wire returns field id as it was on the wire (numeric fields keep their
// leading zeros).
func wire(t testing.TB, m *iso8583.Message, id int) string {
	t.Helper()
	b, err := m.Pack()
	require.NoError(t, err)
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	var v iso.View
	require.NoError(t, sc.Scan(b, &v))
	return string(v.Field(id))
}

func dialErr(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		_ = c.Close()
	}
	return c, err
}

func atLeast(n int) func(int) bool { return func(up int) bool { return up >= n } }

func none(up int) bool { return up == 0 }

// runSwitch runs a switch on cfg until the test ends, once every issuer of
// wantUp has a live link.
func runSwitch(t testing.TB, cfg *config.Config, wantUp []string, opts ...switchd.Option) *running {
	t.Helper()
	sw, err := switchd.New(cfg, opts...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Switch: sw, addr: sw.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- sw.Run(ctx) }()
	t.Cleanup(r.stop)
	for _, name := range wantUp {
		wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
		require.NoError(t, sw.WaitIssuer(wctx, name, atLeast(1)), "issuer %s never came up", name)
		wcancel()
	}
	return r
}
