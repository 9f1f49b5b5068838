package record

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/replay/trace"
	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedBuffer lets the test read what the proxy wrote from another goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startSim runs an issuer simulator that declines PANs ending 0051 and
// amounts above 100000.
func startSim(t *testing.T) *issuersim.Sim {
	t.Helper()
	sim, err := issuersim.New(config.Simulator{
		Name: "sim", Listen: "127.0.0.1:0", DeclineAbove: 100000,
		Rules: []config.SimRule{{PANSuffix: "0051", Code: "51"}},
	}, nil)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- sim.Serve() }()
	t.Cleanup(func() {
		require.NoError(t, sim.Close())
		require.NoError(t, <-done)
	})
	return sim
}

// startProxy runs a proxy in front of upstream; stop closes it and waits.
func startProxy(t *testing.T, upstream string, keepPAN bool, out *lockedBuffer) (p *Proxy, stop func()) {
	t.Helper()
	p, err := New(Options{Listen: "127.0.0.1:0", Upstream: upstream, Out: out, KeepPAN: keepPAN})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- p.Serve() }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			require.NoError(t, p.Close())
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return p, stop
}

type sent struct {
	pan, track2 string
	amount      int64
	code        string // received
}

func sendAll(t *testing.T, addr string, reqs []sent, extra func(*iso8583.Message)) []sent {
	t.Helper()
	c, err := acqclient.Dial(addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	for i := range reqs {
		r := acqclient.Request{PAN: reqs[i].pan, Track2: reqs[i].track2, Amount: reqs[i].amount, STAN: i + 1,
			RRN: fmt.Sprintf("%012d", i+1), Terminal: "TERM0001", Merchant: "MERCHANT0000001"}
		m, err := r.Message()
		require.NoError(t, err)
		if extra != nil {
			extra(m)
		}
		resp, err := c.Send(m)
		require.NoError(t, err)
		reqs[i].code, err = resp.GetString(39)
		require.NoError(t, err)
	}
	return reqs
}

// addCardSecrets puts fields that must never be recorded on a request.
func addCardSecrets(m *iso8583.Message) {
	_ = m.BinaryField(52, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	_ = m.Field(45, "B4111111111111111^TEST/CARD^2512101")
	_ = m.Field(55, "9F2608AABBCCDDEEFF0011")
}

func TestRecordReplacesPANs(t *testing.T) {
	sim := startSim(t)
	var out lockedBuffer
	p, stop := startProxy(t, sim.Addr(), false, &out)
	reqs := sendAll(t, p.Addr(), []sent{
		{pan: "4111111111111111", amount: 1000},
		{pan: "4111111111110051", amount: 1000},
		{pan: "5555555555554444", amount: 200000},
		{pan: "4111111111111111", amount: 2000},
		{track2: "5105105105105100=2512101", amount: 500},
	}, addCardSecrets)
	stop()
	assert.Equal(t, len(reqs), p.Recorded())
	assert.NotContains(t, out.String(), "4111111111111111")
	assert.NotContains(t, out.String(), "5105105105105100")

	msgs, format, err := trace.Parse(strings.NewReader(out.String()), "rec.jsonl")
	require.NoError(t, err)
	assert.Equal(t, trace.FormatJSONL, format)
	require.Len(t, msgs, len(reqs))
	wantCodes := []string{"00", "51", "51", "00", "00"}
	var first string
	for i, m := range msgs {
		v := scan(t, m.Frame)
		orig := reqs[i].pan
		if orig == "" {
			orig = string(iso.PANFromTrack2([]byte(reqs[i].track2)))
		}
		pan := string(v.Field(2))
		assert.NotEqual(t, orig, pan, "message %d", i)
		assert.Len(t, pan, len(orig))
		assert.Equal(t, orig[:6], pan[:6], "same BIN")
		assert.Equal(t, orig[len(orig)-4:], pan[len(pan)-4:], "same last 4")
		assert.True(t, trace.LuhnValid(pan), iso.MaskPAN(v.Field(2)))
		for _, id := range []int{35, 45, 52, 55} {
			assert.False(t, v.Has(id), "message %d field %d", i, id)
		}
		assert.Equal(t, []string{reqs[i].code}, m.Expect, "message %d", i)
		assert.Equal(t, wantCodes[i], reqs[i].code, "message %d", i)
		assert.Equal(t, fmt.Sprintf("%06d", i+1), string(v.Field(11)))
		if i > 0 {
			assert.GreaterOrEqual(t, m.At, msgs[i-1].At)
		}
		if i == 0 {
			first = pan
		}
	}
	assert.Equal(t, first, string(scan(t, msgs[3].Frame).Field(2)), "a repeated card keeps its stand-in")
	assert.Equal(t, time.Duration(0), msgs[0].At)
}

func TestRecordKeepPAN(t *testing.T) {
	sim := startSim(t)
	var out lockedBuffer
	p, stop := startProxy(t, sim.Addr(), true, &out)
	sendAll(t, p.Addr(), []sent{{pan: "4111111111111111", track2: "4111111111111111=2512101", amount: 100}}, addCardSecrets)
	stop()
	msgs, _, err := trace.Parse(strings.NewReader(out.String()), "rec.jsonl")
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	v := scan(t, msgs[0].Frame)
	assert.Equal(t, "4111111111111111", string(v.Field(2)))
	assert.Equal(t, "4111111111111111=2512101", string(v.Field(35)))
	for _, id := range []int{45, 52, 55} {
		assert.False(t, v.Has(id), "field %d", id)
	}
	assert.Equal(t, []string{"00"}, msgs[0].Expect)
}

func TestRecordUnansweredAndUpstreamDown(t *testing.T) {
	sim := startSim(t)
	var out lockedBuffer
	p, stop := startProxy(t, sim.Addr(), false, &out)
	c, err := acqclient.Dial(p.Addr(), 200*time.Millisecond)
	require.NoError(t, err)
	// The simulator does not answer MTIs it does not support.
	m, err := acqclient.Request{MTI: "0600", PAN: "4111111111111111", STAN: 9}.Message()
	require.NoError(t, err)
	_, err = c.Send(m)
	require.Error(t, err)
	require.NoError(t, c.Close())
	stop()
	msgs, _, err := trace.Parse(strings.NewReader(out.String()), "rec.jsonl")
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Empty(t, msgs[0].Expect)

	// An unreachable upstream disconnects the client.
	dead, err := New(Options{Listen: "127.0.0.1:0", Upstream: sim.Addr(), Out: &out})
	require.NoError(t, err)
	require.NoError(t, dead.Close())
	p2, _ := startProxy(t, dead.Addr(), false, &out)
	nc, err := net.Dial("tcp", p2.Addr())
	require.NoError(t, err)
	defer nc.Close()
	_, err = nc.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF)
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Upstream: "x:1", Out: &bytes.Buffer{}}, "record: Listen is empty"},
		{Options{Listen: "127.0.0.1:0", Out: &bytes.Buffer{}}, "record: Upstream is empty"},
		{Options{Listen: "127.0.0.1:0", Upstream: "x:1"}, "record: Out is nil"},
	} {
		_, err := New(tc.o)
		require.EqualError(t, err, tc.want)
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorReportedByClose(t *testing.T) {
	sim := startSim(t)
	p, err := New(Options{Listen: "127.0.0.1:0", Upstream: sim.Addr(), Out: failingWriter{}})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- p.Serve() }()
	reqs := sendAll(t, p.Addr(), []sent{{pan: "4111111111111111", amount: 1}}, nil)
	assert.Equal(t, "00", reqs[0].code, "traffic still flows")
	require.EqualError(t, p.Close(), "disk full")
	require.NoError(t, <-done)
}

func scan(t *testing.T, frame []byte) *iso.View {
	t.Helper()
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	v := new(iso.View)
	require.NoError(t, sc.Scan(frame, v))
	return v
}
