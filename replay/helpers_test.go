package replay

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/replay/trace"
	"github.com/stretchr/testify/require"
)

// msg packs an 0100 for pan/amount with STAN stan.
func msg(t testing.TB, pan string, amount int64, stan int, expect ...string) trace.Message {
	t.Helper()
	m, err := acqclient.Request{PAN: pan, Amount: amount, STAN: stan, RRN: fmt.Sprintf("%012d", stan),
		Terminal: "TERM0001", Merchant: "MERCHANT0000001"}.Message()
	require.NoError(t, err)
	b, err := m.Pack()
	require.NoError(t, err)
	return trace.Message{Frame: b, At: trace.NoTiming, Expect: expect, Line: stan}
}

// msgs returns n approvals for distinct test cards.
func msgs(t testing.TB, n int) []trace.Message {
	out := make([]trace.Message, n)
	for i := range out {
		out[i] = msg(t, "4111111111111111", int64(100+i), i+1)
	}
	return out
}

func startSim(t testing.TB, sc config.Simulator) *issuersim.Sim {
	t.Helper()
	if sc.Listen == "" {
		sc.Listen = "127.0.0.1:0"
	}
	sim, err := issuersim.New(sc, quietLog())
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = sim.Serve() }()
	t.Cleanup(func() { _ = sim.Close(); <-done })
	return sim
}

func startEcho(t testing.TB) *EchoServer {
	t.Helper()
	e, err := NewEchoServer("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
