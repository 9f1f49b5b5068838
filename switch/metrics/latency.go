package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// latency is one histogram of answer times, kept for the hot path: an
// observation is two atomic adds (its bucket, and the sum in microseconds);
// the count is the buckets' total, summed at scrape time. Prometheus's
// own histogram pays three adds and a compare-and-swap loop on a float per
// observation, and the switch needed two of them per answer (the whole
// switch's and the issuer's). Now each answer goes to exactly one
// latency (its issuer's, or the switch's own answers'), and the
// switch-wide histogram is their sum at scrape time.
type latency struct {
	buckets [len(DurationBuckets) + 1]atomic.Uint64 // the last is +Inf
	// sum is in microseconds, rounded: nanoseconds would wrap a uint64
	// after ~584 years of summed latency, months at a busy switch.
	sum atomic.Uint64
}

// boundsNanos are DurationBuckets in nanoseconds, so observe compares
// integers.
var boundsNanos = func() [len(DurationBuckets)]int64 {
	var b [len(DurationBuckets)]int64
	for i, s := range DurationBuckets {
		b[i] = int64(s * float64(time.Second))
	}
	return b
}()

func (l *latency) observe(d time.Duration) {
	i := 0
	for i < len(boundsNanos) && int64(d) > boundsNanos[i] {
		i++
	}
	l.buckets[i].Add(1)
	if d > 0 {
		l.sum.Add(uint64((d + time.Microsecond/2) / time.Microsecond))
	}
}

// totals reads the buckets, cumulative as Prometheus wants them, and the
// sum.
func (l *latency) totals() latencyTotals {
	var t latencyTotals
	var cum uint64
	for i := range DurationBuckets {
		cum += l.buckets[i].Load()
		t.cumulative[i] = cum
	}
	t.count = cum + l.buckets[len(DurationBuckets)].Load()
	t.sum = l.sum.Load()
	return t
}

type latencyTotals struct {
	cumulative [len(DurationBuckets)]uint64
	count      uint64
	sum        uint64 // microseconds
}

func (t *latencyTotals) add(o latencyTotals) {
	for i := range t.cumulative {
		t.cumulative[i] += o.cumulative[i]
	}
	t.count += o.count
	t.sum += o.sum
}

func (t *latencyTotals) metric(desc *prometheus.Desc, labels ...string) prometheus.Metric {
	b := make(map[float64]uint64, len(DurationBuckets))
	for i, ub := range DurationBuckets {
		b[ub] = t.cumulative[i]
	}
	return prometheus.MustNewConstHistogram(desc, t.count, float64(t.sum)/1e6, b, labels...)
}

// latencies exports the per-issuer histograms and, as their sum plus the
// switch's own answers, the switch-wide one. Series are never removed: a
// histogram that shrank would read as a counter reset.
type latencies struct {
	all, perIssuer *prometheus.Desc
	own            latency
	issuers        cowMap[string, *latency]
}

func newLatencies() *latencies {
	all, per := family(NameRequestDuration), family(NameIssuerDuration)
	return &latencies{
		all:       prometheus.NewDesc(all.Name, all.Help, all.Labels, nil),
		perIssuer: prometheus.NewDesc(per.Name, per.Help, per.Labels, nil),
	}
}

// of returns the histogram for issuer ("" for the switch's own answers),
// creating it on first use. issuer must not alias a reused buffer.
func (l *latencies) of(issuer string) *latency {
	if issuer == "" {
		return &l.own
	}
	if h, ok := l.issuers.load(issuer); ok {
		return h
	}
	return l.issuers.loadOrStore(issuer, func() *latency { return new(latency) })
}

func (l *latencies) Describe(ch chan<- *prometheus.Desc) {
	ch <- l.all
	ch <- l.perIssuer
}

func (l *latencies) Collect(ch chan<- prometheus.Metric) {
	all := l.own.totals()
	if m := l.issuers.m.Load(); m != nil {
		for issuer, h := range *m {
			one := h.totals()
			all.add(one)
			ch <- one.metric(l.perIssuer, issuer)
		}
	}
	ch <- all.metric(l.all)
}
