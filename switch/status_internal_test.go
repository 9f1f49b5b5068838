package switchd

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/cardswitch/cardswitch/switch/metrics"
)

// ringAnswer is a finished request of PAN pan, STAN stan, as finish gets it.
func ringAnswer(t testing.TB, pan string, stan int) *answer {
	m := iso.NewMessage(iso.Spec87())
	m.MTI("0100")
	for id, v := range map[int]string{2: pan, 3: "000000", 4: "000000001000", 11: strconv.Itoa(100000 + stan),
		37: "000000000042", 41: "TERM0001", 49: "840"} {
		require.NoError(t, m.Field(id, v))
	}
	frame, err := m.Pack()
	require.NoError(t, err)
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	var v iso.View
	require.NoError(t, sc.Scan(frame, &v))
	return &answer{frame: frame, spans: requestSpans(&v), started: time.Now(), latency: 1500 * time.Microsecond,
		issuer: "bank", code: "00", outcome: journal.Approved}
}

// Recording a finished transaction in the status page's ring allocates
// nothing: it runs for every answer.
func TestTxnRingPutDoesNotAllocate(t *testing.T) {
	var r txnRing
	c := &acqConn{s: snapSwitch(), lst: &listener{}}
	name := "acq-1"
	c.shownName.Store(&name)
	a := ringAnswer(t, "4111111111111111", 1)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { r.put(c, a) }))
}

// The ring keeps the newest txnRingSize transactions, newest first, the
// PAN masked into the slot.
func TestTxnRingKeepsNewest(t *testing.T) {
	var r txnRing
	c := &acqConn{s: snapSwitch(), lst: &listener{}}
	for i := 1; i <= txnRingSize+10; i++ {
		r.put(c, ringAnswer(t, "4111111111111111", i%100000))
	}
	var got []string
	r.each(func(rec *txnRecord) bool {
		got = append(got, string(rec.stan[:rec.stanN]))
		assert.Equal(t, "411111******1111", string(rec.pan[:rec.panN]))
		return true
	})
	require.Len(t, got, txnRingSize)
	assert.Equal(t, strconv.Itoa(100000+(txnRingSize+10)%100000), got[0])
	assert.Equal(t, strconv.Itoa(100000+11), got[len(got)-1])
}

// A point's rates: requests per second over the bucket, the approving
// share, and quantiles interpolated within the bucket that holds them.
func TestSeriesPoint(t *testing.T) {
	var d counts
	d.codes = map[string]uint64{"00": 6, "10": 1, "05": 2, "91": 1}
	// 100µs..250µs: 4 answers; 1ms..2.5ms: 5; past 10 s: 1.
	d.buckets[1], d.buckets[4], d.buckets[len(metrics.DurationBuckets)] = 4, 5, 1
	p := point(time.Unix(100, 0), d, 10)
	assert.InDelta(t, 1.0, p.RequestsPerS, 1e-9)
	require.NotNil(t, p.ApprovalRate)
	assert.InDelta(t, 0.7, *p.ApprovalRate, 1e-9)
	require.NotNil(t, p.P50ms)
	// rank 5 of 10: the first of the 5 in (1ms, 2.5ms]: 1 + 1.5*1/5.
	assert.InDelta(t, 1.3, *p.P50ms, 1e-9)
	require.NotNil(t, p.P99ms)
	assert.InDelta(t, 10000, *p.P99ms, 1e-9, "past the last bound: that bound")

	empty := point(time.Unix(100, 0), counts{codes: map[string]uint64{}}, 10)
	assert.Zero(t, empty.RequestsPerS)
	assert.Nil(t, empty.ApprovalRate)
	assert.Nil(t, empty.P50ms)
	assert.Nil(t, empty.P99ms)
	assert.False(t, math.IsNaN(p.RequestsPerS))
}

// The series keeps one reading per 10 s bucket, at most 30, and makes one
// point per pair of readings, the last against now.
func TestSeriesMarks(t *testing.T) {
	var ss statusSeries
	n := uint64(0)
	read := func() metrics.Totals {
		return metrics.Totals{Issuers: map[string]*metrics.IssuerTotals{"bank": {Codes: map[string]uint64{"00": n}}}}
	}
	start := time.Unix(1000, 0)
	for s := 0; s < 400; s++ {
		n += 2
		ss.tick(start.Add(time.Duration(s)*time.Second), read)
	}
	marks := ss.snapshot(seriesMark{at: start.Add(400 * time.Second), totals: read()})
	require.Len(t, marks, seriesMarks+1)
	sr := seriesOf(marks, nil)
	require.Len(t, sr.Points, seriesMarks)
	for _, p := range sr.Points[:len(sr.Points)-1] {
		assert.InDelta(t, 2.0, p.RequestsPerS, 1e-9, "%v", p.T)
	}
	// The oldest reading kept is the one at 100 s (202 answers), now has 800.
	assert.Equal(t, map[string]uint64{"00": 800 - 2*101}, codesOf(marks, nil))
	assert.Empty(t, seriesOf(marks, func(string) bool { return false }).Points[0].ApprovalRate)
}

// BenchmarkTxnRingPut: what the status page's ring adds to each answer.
func BenchmarkTxnRingPut(b *testing.B) {
	var r txnRing
	c := &acqConn{s: snapSwitch(), lst: &listener{}}
	a := ringAnswer(b, "4111111111111111", 1)
	b.ReportAllocs()
	for b.Loop() {
		r.put(c, a)
	}
}
