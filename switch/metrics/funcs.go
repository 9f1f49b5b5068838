package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// funcGauge is a GaugeFunc whose function is set after registration. It
// exports nothing until set: a missing series says "not wired", where a 0
// would falsely say "empty".
type funcGauge struct {
	desc *prometheus.Desc
	f    atomic.Pointer[func() float64]
}

func newFuncGauge(name string) *funcGauge {
	fam := family(name)
	return &funcGauge{desc: prometheus.NewDesc(fam.Name, fam.Help, nil, nil)}
}

func (g *funcGauge) set(f func() float64) {
	if f == nil {
		g.f.Store(nil)
		return
	}
	g.f.Store(&f)
}

func (g *funcGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *funcGauge) Collect(ch chan<- prometheus.Metric) {
	if f := g.f.Load(); f != nil {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, (*f)())
	}
}

// perIssuerGauge exports one gauge per issuer from a callback run at scrape
// time, so the switch keeps its own counts and pays nothing per request.
type perIssuerGauge struct {
	desc *prometheus.Desc
	f    atomic.Pointer[func() map[string]int]
}

func newPerIssuerGauge(name string) *perIssuerGauge {
	fam := family(name)
	return &perIssuerGauge{desc: prometheus.NewDesc(fam.Name, fam.Help, fam.Labels, nil)}
}

func (g *perIssuerGauge) set(f func() map[string]int) {
	if f == nil {
		g.f.Store(nil)
		return
	}
	g.f.Store(&f)
}

func (g *perIssuerGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *perIssuerGauge) Collect(ch chan<- prometheus.Metric) {
	f := g.f.Load()
	if f == nil {
		return
	}
	for issuer, n := range (*f)() {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(n), issuer)
	}
}
