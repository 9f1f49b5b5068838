package issuersim

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cardswitch/cardswitch/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCloseCancelsPendingDelayedAnswer(t *testing.T) {
	defer goleak.VerifyNone(t)

	s, err := New(config.Simulator{
		Listen: "127.0.0.1:0",
		Rules:  []config.SimRule{{PANSuffix: "0005", Delay: time.Hour}},
	}, nil)
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()

	c := dialSim(t, s.Addr())
	c.send(newMsg(t, "0100", authFields("4111111111110005", "100", "000001")))
	// The read goroutine handles frames in order: once the second is
	// answered, the first one's timer is pending.
	resp := c.roundTrip(newMsg(t, "0100", authFields("4111111111111111", "100", "000002")))
	require.Equal(t, "000002", str(resp, 11))

	// An hour-long timer that Close did not cancel would hang here until
	// the test binary's timeout.
	require.NoError(t, s.Close())
	require.NoError(t, <-served)

	_, err = c.fr.Next()
	assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed), "got %v", err)
	require.NoError(t, c.nc.Close())
}

func TestCloseBeforeServe(t *testing.T) {
	s, err := New(config.Simulator{Listen: "127.0.0.1:0"}, nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Serve())
	require.NoError(t, s.Close(), "second Close")
}

func TestCloseWhileClientFloodsWithoutReading(t *testing.T) {
	s, err := New(config.Simulator{Listen: "127.0.0.1:0"}, nil)
	require.NoError(t, err)
	seen := make(chan struct{}, 1)
	s.OnRequest(func(Request) {
		select {
		case seen <- struct{}{}:
		default:
		}
	})
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()

	// Flood requests without reading answers until the simulator's writer
	// and the socket buffers fill up; Close must still return.
	c := dialSim(t, s.Addr())
	frame, err := newMsg(t, "0100", authFields("4111111111111111", "100", "000001")).Pack()
	require.NoError(t, err)
	go func() {
		for c.sendFrameErr(frame) == nil {
		}
	}()
	<-seen
	require.NoError(t, s.Close())
	require.NoError(t, <-served)
	require.NoError(t, c.nc.Close())
}

// flakyListener fails its first fails Accepts with an error that is not
// net.ErrClosed, as a listener out of file descriptors would.
type flakyListener struct {
	net.Listener
	fails int
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails > 0 {
		l.fails--
		return nil, errors.New("accept: too many open files")
	}
	return l.Listener.Accept()
}

func TestServeRetriesTransientAcceptErrors(t *testing.T) {
	s, err := New(config.Simulator{Listen: "127.0.0.1:0"}, nil)
	require.NoError(t, err)
	s.ln = &flakyListener{Listener: s.ln, fails: 3}
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()

	c := dialSim(t, s.Addr())
	resp := c.roundTrip(newMsg(t, "0100", authFields("4111111111111111", "100", "000001")))
	assert.Equal(t, "00", str(resp, 39))

	require.NoError(t, s.Close())
	require.NoError(t, <-served)
}
