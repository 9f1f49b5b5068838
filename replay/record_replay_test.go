package replay

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/replay/record"
	"github.com/cardswitch/cardswitch/replay/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Traffic recorded by `cardswitch record` (PANs replaced) replays cleanly:
// every request gets the code it got when it was recorded.
func TestRecordedTraceReplaysCleanly(t *testing.T) {
	sim := startSim(t, config.Simulator{DeclineAbove: 100000,
		Rules: []config.SimRule{{PANSuffix: "0051", Code: "51"}}})
	var out syncBuffer
	p, err := record.New(record.Options{Listen: "127.0.0.1:0", Upstream: sim.Addr(), Out: &out, Log: quietLog()})
	require.NoError(t, err)
	served := make(chan struct{})
	go func() { defer close(served); _ = p.Serve() }()

	c, err := acqclient.Dial(p.Addr(), 10*time.Second)
	require.NoError(t, err)
	cards := []struct {
		pan    string
		amount int64
	}{{"4111111111111111", 1000}, {"4111111111110051", 1000}, {"5555555555554444", 200000}, {"5105105105105100", 77}}
	for i := 0; i < 20; i++ {
		card := cards[i%len(cards)]
		m, err := acqclient.Request{PAN: card.pan, Amount: card.amount, STAN: i + 1, RRN: "000000000001",
			Terminal: "TERM0001"}.Message()
		require.NoError(t, err)
		_, err = c.Send(m)
		require.NoError(t, err)
	}
	require.NoError(t, c.Close())
	require.NoError(t, p.Close())
	<-served

	msgs, _, err := trace.Parse(bytes.NewReader(out.b.Bytes()), "recorded.jsonl")
	require.NoError(t, err)
	require.Len(t, msgs, 20)
	for _, m := range msgs {
		require.Len(t, m.Expect, 1, "every recorded request has its answer as expectation")
	}
	rep, err := Run(context.Background(), Options{Target: sim.Addr(), Recorded: true, Speed: 10}, msgs)
	require.NoError(t, err)
	assert.EqualValues(t, 20, rep.Answered)
	assert.Zero(t, rep.ValidationFailures, "%v", rep.Failures)
	assert.Equal(t, 10, int(rep.Codes["00"]))
	assert.Equal(t, 10, int(rep.Codes["51"]))
}
