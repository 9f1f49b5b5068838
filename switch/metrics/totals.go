package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Totals are the request counters and latency histograms read at one
// moment, for the status page: it keeps a few and shows their
// differences. Reading them costs the request path nothing: they are the
// counts Request keeps anyway.
type Totals struct {
	// Issuers by name; "" holds the switch's own answers (no issuer).
	Issuers map[string]*IssuerTotals
}

// IssuerTotals are one issuer's counts since the start.
type IssuerTotals struct {
	// Codes counts answers by response code label (see Request).
	Codes map[string]uint64
	// Buckets count answers by latency: Buckets[i] those above
	// DurationBuckets[i-1] and up to DurationBuckets[i], the last those
	// above every bound. Not cumulative.
	Buckets [len(DurationBuckets) + 1]uint64
	// StandIn counts the switch's stand-in decisions for the issuer.
	StandIn uint64
}

func (t *Totals) of(issuer string) *IssuerTotals {
	it := t.Issuers[issuer]
	if it == nil {
		it = &IssuerTotals{Codes: map[string]uint64{}}
		t.Issuers[issuer] = it
	}
	return it
}

// Totals reads every request counter, latency histogram and stand-in
// counter.
func (m *Metrics) Totals() Totals {
	t := Totals{Issuers: map[string]*IssuerTotals{}}
	if rc := m.requestCache.m.Load(); rc != nil {
		for k, ch := range *rc {
			t.of(k.issuer).Codes[codeOfKey(k.labels)] += counterValue(ch.count)
		}
	}
	readBuckets(&m.latencies.own, t.of(""))
	if lm := m.latencies.issuers.m.Load(); lm != nil {
		for name, l := range *lm {
			readBuckets(l, t.of(name))
		}
	}
	ch := make(chan prometheus.Metric)
	go func() {
		m.standIn.Collect(ch)
		close(ch)
	}()
	for c := range ch {
		var d dto.Metric
		if c.Write(&d) != nil {
			continue
		}
		for _, lp := range d.GetLabel() {
			if lp.GetName() == "issuer" {
				t.of(lp.GetValue()).StandIn += uint64(d.GetCounter().GetValue())
			}
		}
	}
	return t
}

// codeOfKey is the code label packed in a requestKey's labels (labelKey).
func codeOfKey(k uint64) string {
	c := [2]byte{byte(k >> 32), byte(k >> 40)}
	if c[0] == 0 {
		return otherLabel
	}
	return string(c[:])
}

func counterValue(c prometheus.Counter) uint64 {
	var d dto.Metric
	if c.Write(&d) != nil {
		return 0
	}
	return uint64(d.GetCounter().GetValue())
}

func readBuckets(l *latency, it *IssuerTotals) {
	for i := range l.buckets {
		it.Buckets[i] += l.buckets[i].Load()
	}
}
