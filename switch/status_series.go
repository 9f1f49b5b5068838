package switchd

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/cardswitch/cardswitch/switch/metrics"
)

// The status page's charts: requests/s, approval rate and p50/p99 per
// issuer and for the switch over the last 5 minutes, in 10 s buckets.
// They come from the counters and latency histograms the switch keeps
// anyway (metrics.Totals): a ticker reads them once a second and keeps
// the reading at each 10 s boundary; a point is the difference of two
// readings, and the newest, partial point the difference between the last
// one and the counters now.
const (
	seriesBucket = 10 * time.Second
	seriesWindow = 5 * time.Minute
	seriesTick   = time.Second
	// seriesMarks: the readings kept; the points are one fewer, plus the
	// partial one: at most 30.
	seriesMarks = int(seriesWindow / seriesBucket)
)

// seriesMark is the counters read at one moment.
type seriesMark struct {
	at     time.Time
	totals metrics.Totals
}

// statusSeries keeps the readings at bucket boundaries, oldest first.
type statusSeries struct {
	mu    sync.Mutex
	marks []seriesMark
}

// tick keeps t as a mark when now starts a bucket the last mark is not
// in (the first reading always).
func (ss *statusSeries) tick(now time.Time, t func() metrics.Totals) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if n := len(ss.marks); n > 0 && now.Truncate(seriesBucket).Equal(ss.marks[n-1].at.Truncate(seriesBucket)) {
		return
	}
	ss.marks = append(ss.marks, seriesMark{at: now, totals: t()})
	if len(ss.marks) > seriesMarks {
		ss.marks = append(ss.marks[:0], ss.marks[1:]...)
	}
}

// snapshot returns the marks kept, then now's reading as the last one.
func (ss *statusSeries) snapshot(now seriesMark) []seriesMark {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]seriesMark, 0, len(ss.marks)+1)
	out = append(out, ss.marks...)
	return append(out, now)
}

// runSeries reads the counters every second until ctx ends.
func (s *Switch) runSeries(ctx context.Context) {
	t := time.NewTicker(seriesTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.series.tick(now, s.metrics.Totals)
		}
	}
}

// Series is one chart's points, oldest first.
type Series struct {
	BucketSeconds int           `json:"bucket_seconds"`
	Points        []SeriesPoint `json:"points"`
}

// SeriesPoint is one bucket. The rates are null for a bucket without
// requests.
type SeriesPoint struct {
	T            time.Time `json:"t"`
	RequestsPerS float64   `json:"requests_per_s"`
	ApprovalRate *float64  `json:"approval_rate"`
	P50ms        *float64  `json:"p50_ms"`
	P99ms        *float64  `json:"p99_ms"`
}

// counts is what one bucket adds up: answers by code and by latency.
type counts struct {
	codes   map[string]uint64
	buckets [len(metrics.DurationBuckets) + 1]uint64
}

// sum adds up the totals of the issuers pick keeps (every one: nil).
func sum(t *metrics.Totals, pick func(string) bool) counts {
	c := counts{codes: map[string]uint64{}}
	for name, it := range t.Issuers {
		if pick != nil && !pick(name) {
			continue
		}
		for code, n := range it.Codes {
			c.codes[code] += n
		}
		for i, n := range it.Buckets {
			c.buckets[i] += n
		}
	}
	return c
}

// minus is c less an earlier reading o.
func (c counts) minus(o counts) counts {
	d := counts{codes: map[string]uint64{}}
	for code, n := range c.codes {
		if n > o.codes[code] {
			d.codes[code] = n - o.codes[code]
		}
	}
	for i := range c.buckets {
		if c.buckets[i] > o.buckets[i] {
			d.buckets[i] = c.buckets[i] - o.buckets[i]
		}
	}
	return d
}

// seriesOf makes the points of the issuers pick keeps from marks.
func seriesOf(marks []seriesMark, pick func(string) bool) Series {
	out := Series{BucketSeconds: int(seriesBucket / time.Second), Points: []SeriesPoint{}}
	prev := counts{}
	for i, m := range marks {
		cur := sum(&m.totals, pick)
		if i > 0 {
			if secs := m.at.Sub(marks[i-1].at).Seconds(); secs > 0 {
				out.Points = append(out.Points, point(marks[i-1].at, cur.minus(prev), secs))
			}
		}
		prev = cur
	}
	return out
}

// approving are the codes counted as approvals in the approval rate: the
// issuer's outcome "approved" (issuerOutcome).
var approving = [...]string{"00", "08", "10", "11"}

func point(at time.Time, d counts, secs float64) SeriesPoint {
	p := SeriesPoint{T: at.UTC().Truncate(time.Second)}
	var n, ok uint64
	for code, k := range d.codes {
		n += k
		for _, a := range approving {
			if code == a {
				ok += k
			}
		}
	}
	p.RequestsPerS = math.Round(float64(n)/secs*10) / 10
	if n > 0 {
		rate := float64(ok) / float64(n)
		p.ApprovalRate = &rate
	}
	p.P50ms, p.P99ms = quantileMs(&d.buckets, 0.50), quantileMs(&d.buckets, 0.99)
	return p
}

// quantileMs estimates a quantile of the latencies counted in b as
// Prometheus's histogram_quantile does: linear within the bucket that
// holds it; past the last bound, that bound. nil for no answers.
func quantileMs(b *[len(metrics.DurationBuckets) + 1]uint64, q float64) *float64 {
	var total uint64
	for _, n := range b {
		total += n
	}
	if total == 0 {
		return nil
	}
	rank := q * float64(total)
	var cum float64
	bounds := metrics.DurationBuckets
	for i, n := range b {
		if n == 0 || cum+float64(n) < rank {
			cum += float64(n)
			continue
		}
		if i == len(bounds) {
			v := bounds[len(bounds)-1] * 1000
			return &v
		}
		lo := 0.0
		if i > 0 {
			lo = bounds[i-1]
		}
		v := (lo + (bounds[i]-lo)*(rank-cum)/float64(n)) * 1000
		v = math.Round(v*1000) / 1000
		return &v
	}
	return nil
}

// codesOf is the code mix over the marks: the last reading less the first.
func codesOf(marks []seriesMark, pick func(string) bool) map[string]uint64 {
	if len(marks) == 0 {
		return map[string]uint64{}
	}
	last := sum(&marks[len(marks)-1].totals, pick)
	return last.minus(sum(&marks[0].totals, pick)).codes
}
