package journal

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStats(t *testing.T) {
	j, _ := openTemp(t, Options{})
	// bank-a: latencies 1..100 ms, all approved; bank-b: 4 declines at 10ms; one unrouted.
	for i := 1; i <= 100; i++ {
		e := sampleEntry(i)
		e.Latency = time.Duration(101-i) * time.Millisecond // stored out of order on purpose
		j.Append(e, nil)
	}
	for i := 101; i <= 104; i++ {
		e := sampleEntry(i)
		e.Issuer, e.ResponseCode, e.Outcome, e.Latency = "bank-b", "51", Declined, 10*time.Millisecond
		j.Append(e, nil)
	}
	e := sampleEntry(105)
	e.Issuer, e.ResponseCode, e.Outcome, e.Latency = "", "15", SwitchDeclined, 250*time.Microsecond
	j.Append(e, nil)
	require.NoError(t, j.Flush(context.Background()))

	st, err := j.Stats(context.Background(), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 105, st.Total)
	assert.Equal(t, 100, st.Approved)
	assert.InDelta(t, 100.0/105, st.ApprovalRate, 1e-9)
	ms := time.Millisecond
	assert.Equal(t, []GroupStats{
		{Key: "", Count: 1, P50: 250 * time.Microsecond, P90: 250 * time.Microsecond, P99: 250 * time.Microsecond, Max: 250 * time.Microsecond},
		{Key: "bank-a", Count: 100, Approved: 100, P50: 50 * ms, P90: 90 * ms, P99: 99 * ms, Max: 100 * ms},
		{Key: "bank-b", Count: 4, P50: 10 * ms, P90: 10 * ms, P99: 10 * ms, Max: 10 * ms},
	}, st.ByIssuer)
	require.Len(t, st.ByCode, 3)
	assert.Equal(t, []string{"00", "15", "51"}, []string{st.ByCode[0].Key, st.ByCode[1].Key, st.ByCode[2].Key})
	assert.Equal(t, 100, st.ByCode[0].Approved)

	st, err = j.Stats(context.Background(), t0.Add(101*time.Second))
	require.NoError(t, err)
	assert.Equal(t, 5, st.Total)
	assert.Equal(t, 0, st.Approved)

	st, err = j.Stats(context.Background(), t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Zero(t, st.Total)
	assert.Zero(t, st.ApprovalRate)
	assert.Empty(t, st.ByIssuer)
}

func TestRank(t *testing.T) {
	s := []time.Duration{1, 2, 3}
	assert.Equal(t, time.Duration(2), rank(s, 50))
	assert.Equal(t, time.Duration(3), rank(s, 90))
	assert.Equal(t, time.Duration(1), rank([]time.Duration{1}, 50))
}
