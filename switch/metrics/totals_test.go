package metrics

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Totals reads the counts Request and StandIn keep: answers by issuer and
// code (the switch's own under ""), their latency buckets, and stand-in
// decisions.
func TestTotals(t *testing.T) {
	m := New()
	m.Request("0100", "bank", "00", 200*time.Microsecond)
	m.Request("0200", "bank", "00", 2*time.Millisecond)
	m.Request("0100", "bank", "N7", time.Minute)
	m.Request("0100", "", "15", 50*time.Microsecond)
	m.StandIn("bank", "00")
	m.StandIn("bank", "61")

	tot := m.Totals()
	bank := tot.Issuers["bank"]
	require.NotNil(t, bank)
	assert.Equal(t, map[string]uint64{"00": 2, "other": 1}, bank.Codes)
	assert.Equal(t, uint64(2), bank.StandIn)
	assert.Equal(t, uint64(1), bank.Buckets[1], "200µs: in (100µs, 250µs]")
	assert.Equal(t, uint64(1), bank.Buckets[4], "2ms: in (1ms, 2.5ms]")
	assert.Equal(t, uint64(1), bank.Buckets[len(DurationBuckets)], "a minute: past 10 s")
	own := tot.Issuers[""]
	require.NotNil(t, own)
	assert.Equal(t, map[string]uint64{"15": 1}, own.Codes)
	assert.Equal(t, uint64(1), own.Buckets[0])
}
