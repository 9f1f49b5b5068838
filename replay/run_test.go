package replay

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/porttest"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/replay/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClosedLoopAgainstEcho(t *testing.T) {
	e := startEcho(t)
	rep, err := Run(context.Background(), Options{Target: e.Addr(), Connections: 2, Concurrency: 8, Count: 2000}, msgs(t, 50))
	require.NoError(t, err)
	assert.EqualValues(t, 2000, rep.Sent)
	assert.EqualValues(t, 2000, rep.Answered)
	assert.Zero(t, rep.Timeouts+rep.Errors+rep.ValidationFailures)
	assert.EqualValues(t, 2000, e.Requests())
	assert.False(t, rep.Failed())
	assert.Equal(t, ModeClosed, rep.Mode)
}

// TestRewriteMakesRequestsUnique replays the same 3 messages 4 times over
// 2 connections: the issuer must see 12 distinct RRNs, and STANs unique
// among those in flight (here: unique per connection outright).
func TestRewriteMakesRequestsUnique(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	var mu sync.Mutex
	var seen []issuersim.Request
	sim.OnRequest(func(r issuersim.Request) { mu.Lock(); seen = append(seen, r); mu.Unlock() })
	rep, err := Run(context.Background(), Options{Target: sim.Addr(), Connections: 2, Concurrency: 4, Count: 12}, msgs(t, 3))
	require.NoError(t, err)
	require.EqualValues(t, 12, rep.Answered)
	require.Zero(t, rep.ValidationFailures, rep.Failures)
	mu.Lock()
	defer mu.Unlock()
	rrns := map[string]bool{}
	for _, r := range seen {
		assert.Len(t, r.RRN, 12)
		assert.NotContains(t, []string{"000000000001", "000000000002", "000000000003"}, r.RRN)
		rrns[r.RRN] = true
	}
	assert.Len(t, rrns, 12)
	assert.Equal(t, map[string]int64{"00": 12}, rep.Codes)
}

func TestNoRewriteSendsFramesUnchanged(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	var mu sync.Mutex
	var stans []string
	sim.OnRequest(func(r issuersim.Request) { mu.Lock(); stans = append(stans, r.STAN+"/"+r.RRN); mu.Unlock() })
	rep, err := Run(context.Background(), Options{Target: sim.Addr(), NoRewrite: true}, msgs(t, 3))
	require.NoError(t, err)
	require.EqualValues(t, 3, rep.Answered)
	mu.Lock()
	defer mu.Unlock()
	assert.ElementsMatch(t, []string{"000001/000000000001", "000002/000000000002", "000003/000000000003"}, stans)
}

func TestValidationFailuresAreListedMasked(t *testing.T) {
	sim := startSim(t, config.Simulator{DeclineAbove: 100000,
		Rules: []config.SimRule{{PANSuffix: "0096", Malformed: true}}})
	in := []trace.Message{
		msg(t, "4111111111111111", 1000, 1, "00"),
		msg(t, "4111111111111111", 200000, 2, "00"),       // answered 51
		msg(t, "5555555555554444", 200000, 3, "51", "05"), // fine
		msg(t, "4111111111110096", 1000, 4),               // unreadable answer
	}
	rep, err := Run(context.Background(), Options{Target: sim.Addr()}, in)
	require.NoError(t, err)
	assert.EqualValues(t, 4, rep.Answered)
	assert.EqualValues(t, 2, rep.ValidationFailures)
	require.Len(t, rep.Failures, 2)
	assert.Equal(t, Failure{Line: 2, MTI: "0100", PAN: "411111******1111", STAN: rep.Failures[0].STAN,
		Reason: "response code 51, want 00", Code: "51", Expected: []string{"00"}}, rep.Failures[0])
	assert.Equal(t, "411111******0096", rep.Failures[1].PAN)
	assert.Contains(t, rep.Failures[1].Reason, "unparseable response: field ")
	assert.True(t, rep.Failed())

	b, err := json.Marshal(rep)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "4111111111111111")
	var sb strings.Builder
	require.NoError(t, rep.WriteSummary(&sb))
	assert.Contains(t, sb.String(), "line 2: 0100 411111******1111 stan ")
	assert.Contains(t, sb.String(), ": response code 51, want 00")
	assert.NotContains(t, sb.String(), "4111111111111111")
}

func TestTimeoutsAndMaxErrors(t *testing.T) {
	sim := startSim(t, config.Simulator{Rules: []config.SimRule{{Amount: 999, NoAnswer: true}}})
	in := []trace.Message{msg(t, "4111111111111111", 1000, 1), msg(t, "4111111111111111", 999, 2),
		msg(t, "4111111111111111", 1000, 3)}
	tests := []struct {
		name      string
		maxErrors int
		exceeded  bool
	}{
		{"tolerated", 1, false},
		{"unlimited", -1, false},
		{"exceeded", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Run(context.Background(), Options{Target: sim.Addr(), Timeout: time.Second,
				MaxErrors: tc.maxErrors}, in)
			require.NoError(t, err)
			assert.EqualValues(t, 1, rep.Timeouts)
			assert.Equal(t, tc.exceeded, rep.ExceededMaxErrors)
			assert.Equal(t, tc.exceeded, rep.Failed())
			if !tc.exceeded { // the exceeded run stops sending at the timeout
				assert.EqualValues(t, 2, rep.Answered)
			}
		})
	}
}

func TestConnectionLossCountsErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() { // accepts, reads a little, hangs up
		c, err := ln.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 10)
		_, _ = c.Read(buf)
		_ = c.Close()
	}()
	rep, err := Run(context.Background(), Options{Target: ln.Addr().String(), Concurrency: 3, MaxErrors: -1}, msgs(t, 3))
	require.ErrorIs(t, err, ErrAllConnsDown)
	require.NotNil(t, rep)
	assert.EqualValues(t, 1, rep.ConnectionErrors)
	assert.EqualValues(t, 3, rep.Errors)
}

func TestRunErrors(t *testing.T) {
	noSTAN := msg(t, "4111111111111111", 1, 1)
	noSTAN.Frame = []byte("0100" + "0000000000000000")
	resp := msg(t, "4111111111111111", 1, 1)
	resp.Frame = append([]byte("0110"), resp.Frame[4:]...)
	resp.Line = 7
	timed := msgs(t, 1)
	tests := []struct {
		name string
		opt  Options
		in   []trace.Message
		want string
	}{
		{"no target", Options{}, msgs(t, 1), "replay: --target: required"},
		{"no messages", Options{Target: "127.0.0.1:1"}, nil, "replay: --messages: nothing to send"},
		{"rate and recorded", Options{Target: "127.0.0.1:1", Rate: 5, Recorded: true}, msgs(t, 1), "replay: --rate: cannot be combined with recorded timing"},
		{"warmup too long", Options{Target: "127.0.0.1:1", Duration: time.Second, Warmup: time.Second}, msgs(t, 1), "replay: --warmup: must be shorter than the duration (1s)"},
		{"no STAN", Options{Target: "127.0.0.1:1"}, []trace.Message{noSTAN}, "replay: message at line 1: field 11: required (responses are matched by STAN)"},
		{"response MTI", Options{Target: "127.0.0.1:1"}, []trace.Message{resp}, "replay: message at line 7: field 0: not a request MTI"},
		{"recorded without timing", Options{Target: "127.0.0.1:1", Recorded: true}, timed, "replay: message at line 1: no timing in the trace (recorded timing needs it)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.opt, tc.in)
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestDialFailure(t *testing.T) {
	addr := porttest.Addr(t) // nothing listens there, nor can meanwhile
	_, err := Run(context.Background(), Options{Target: addr}, msgs(t, 1))
	require.ErrorContains(t, err, "replay: connect "+addr+": ")
}

// TestRecordedTiming replays offsets 0..400ms at speed 2: the last request
// cannot leave before 200ms, and the run loops the trace when Count asks.
func TestRecordedTiming(t *testing.T) {
	e := startEcho(t)
	in := msgs(t, 5)
	for i := range in {
		in[i].At = time.Duration(i) * 100 * time.Millisecond
	}
	rep, err := Run(context.Background(), Options{Target: e.Addr(), Recorded: true, Speed: 2}, in)
	require.NoError(t, err)
	assert.EqualValues(t, 5, rep.Answered)
	assert.GreaterOrEqual(t, rep.DurationS, 0.2)
	assert.Equal(t, ModeRecorded, rep.Mode)
}

func TestWarmupExcluded(t *testing.T) {
	e := startEcho(t)
	rep, err := Run(context.Background(), Options{Target: e.Addr(), Rate: 100, Duration: 600 * time.Millisecond,
		Warmup: 300 * time.Millisecond}, msgs(t, 5))
	require.NoError(t, err)
	assert.EqualValues(t, 30, rep.Warmup)
	assert.EqualValues(t, 30, rep.Sent)
	assert.EqualValues(t, 30, rep.Answered)
	assert.EqualValues(t, 60, e.Requests())
}

func TestContextCancelEndsRun(t *testing.T) {
	e := startEcho(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *Report)
	go func() {
		rep, err := Run(ctx, Options{Target: e.Addr(), Concurrency: 4, Duration: time.Hour}, msgs(t, 1))
		assert.NoError(t, err)
		done <- rep
	}()
	require.Eventually(t, func() bool { return e.Requests() > 100 }, 10*time.Second, time.Millisecond)
	cancel()
	rep := <-done
	// The echo saw more than 100 requests, so more than 100 were sent; up to
	// Concurrency of them may still have been in flight at cancel and are
	// counted as abandoned, never lost from the report.
	assert.Greater(t, rep.Sent, int64(100))
	assert.Equal(t, rep.Sent, rep.Answered+rep.Abandoned)
	assert.LessOrEqual(t, rep.Abandoned, int64(4))
	assert.Zero(t, rep.Errors+rep.Timeouts)
}
