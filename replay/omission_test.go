package replay

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The target stops reading for 1 s once. Open loop (latency from the
// intended send time) must show the stall on every request scheduled
// during it; closed loop at concurrency 1 sends nothing while it waits, so
// only one request sees it. These are properties of the measurement, not
// of machine speed: thresholds are generous on both sides.
const stall = time.Second

func TestOpenLoopCountsTheStall(t *testing.T) {
	e := startEcho(t)
	// At 200/s for 2.5 s, request 100 arrives at ~0.5 s; the ~100 requests
	// scheduled in the stall's first half (20% of the run) wait > 500 ms.
	e.StallOnce(100, stall)
	rep, err := Run(context.Background(), Options{Target: e.Addr(), Rate: 200, Duration: 2500 * time.Millisecond}, msgs(t, 10))
	require.NoError(t, err)
	t.Logf("open loop: p50 %.1f p90 %.1f p99 %.1f max %.1f ms", rep.Latency.P50, rep.Latency.P90, rep.Latency.P99, rep.Latency.Max)
	require.EqualValues(t, 500, rep.Answered)
	<-e.Stalled() // 500 answers: request 100 and its stall are behind us
	assert.GreaterOrEqual(t, rep.Latency.Max, 900.0, "max latency must include the stall")
	// p90 above 500 ms means more than 10% of requests saw the stall.
	assert.Greater(t, rep.Latency.P90, 500.0, "requests scheduled during the stall count from their intended time")
}

func TestClosedLoopHidesTheStall(t *testing.T) {
	e := startEcho(t)
	e.StallOnce(100, stall)
	rep, err := Run(context.Background(), Options{Target: e.Addr(), Concurrency: 1, Count: 500}, msgs(t, 10))
	require.NoError(t, err)
	t.Logf("closed loop: p50 %.1f p90 %.1f p99 %.1f max %.1f ms", rep.Latency.P50, rep.Latency.P90, rep.Latency.P99, rep.Latency.Max)
	require.EqualValues(t, 500, rep.Answered)
	<-e.Stalled() // 500 answers: request 100 and its stall are behind us
	assert.GreaterOrEqual(t, rep.Latency.Max, 900.0, "the one request in flight waited out the stall")
	// Only ~1 request in 500 (0.2%) saw it: p99 stays far below.
	assert.Less(t, rep.Latency.P99, 500.0)
}
