package metrics

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the switch's metrics and the registry they live in. All
// methods are safe for concurrent use. A nil *Metrics is not valid; callers
// that run without metrics should still create one (it costs little).
type Metrics struct {
	reg *prometheus.Registry

	requests     *prometheus.CounterVec
	latencies    *latencies
	requestCache cowMap[requestKey, requestChildren]

	linkUp        *prometheus.GaugeVec
	inFlight      *perIssuerGauge
	acquirerConns prometheus.Gauge
	reloadOK      prometheus.Counter
	reloadError   prometheus.Counter
	reversalQueue *funcGauge
	revsLocked    *funcGauge
	journalLag    *funcGauge
	indexLag      *funcGauge
	journalErrors prometheus.Counter
	rejected      *prometheus.CounterVec
	rejectedCache cowMap[string, prometheus.Counter]
	unreadable    prometheus.Counter
	unmatched     prometheus.Counter
	offline       *perIssuerGauge
	standIn       *prometheus.CounterVec
	standInLate   *prometheus.CounterVec
	advicesOwed   *funcGauge
	adviceOldest  *funcGauge
	adviceExcept  *funcGauge
	translated    *prometheus.CounterVec
	translateErrs *prometheus.CounterVec
	framingErrs   *prometheus.CounterVec
}

// Edge holds the dialect counters of one listener or issuer, resolved
// once so that counting a message is one atomic add.
type Edge struct {
	Translated, TranslateErrors, FramingErrors prometheus.Counter
}

// Edge side labels.
const (
	SideAcquirer = "acquirer"
	SideIssuer   = "issuer"
)

// Edge returns the counters of the listener or issuer name (side
// SideAcquirer or SideIssuer) speaking dialect. The label values come from
// the configuration: bounded.
func (m *Metrics) Edge(side, name, dialect string) *Edge {
	return &Edge{
		Translated:      m.translated.WithLabelValues(side, name, dialect),
		TranslateErrors: m.translateErrs.WithLabelValues(side, name, dialect),
		FramingErrors:   m.framingErrs.WithLabelValues(side, name, dialect),
	}
}

// New creates the metrics in a fresh registry that also holds the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg:           prometheus.NewRegistry(),
		requests:      prometheus.NewCounterVec(counterOpts(NameRequests), family(NameRequests).Labels),
		latencies:     newLatencies(),
		linkUp:        prometheus.NewGaugeVec(gaugeOpts(NameLinkUp), family(NameLinkUp).Labels),
		inFlight:      newPerIssuerGauge(NameInFlight),
		acquirerConns: prometheus.NewGauge(gaugeOpts(NameAcquirerConns)),
		reversalQueue: newFuncGauge(NameReversalQueue),
		revsLocked:    newFuncGauge(NameReversalsLocked),
		journalLag:    newFuncGauge(NameJournalLag),
		indexLag:      newFuncGauge(NameJournalIndexLag),
		journalErrors: prometheus.NewCounter(counterOpts(NameJournalErrors)),
		rejected:      prometheus.NewCounterVec(counterOpts(NameRejected), family(NameRejected).Labels),
		unreadable:    prometheus.NewCounter(counterOpts(NameUnreadable)),
		unmatched:     prometheus.NewCounter(counterOpts(NameUnmatched)),
		translated:    prometheus.NewCounterVec(counterOpts(NameTranslated), family(NameTranslated).Labels),
		translateErrs: prometheus.NewCounterVec(counterOpts(NameTranslateErrors), family(NameTranslateErrors).Labels),
		framingErrs:   prometheus.NewCounterVec(counterOpts(NameFramingErrors), family(NameFramingErrors).Labels),
		offline:       newPerIssuerGauge(NameIssuerOffline),
		standIn:       prometheus.NewCounterVec(counterOpts(NameStandIn), family(NameStandIn).Labels),
		standInLate:   prometheus.NewCounterVec(counterOpts(NameStandInLate), family(NameStandInLate).Labels),
		advicesOwed:   newFuncGauge(NameAdvicesOwed),
		adviceOldest:  newFuncGauge(NameAdviceOldest),
		adviceExcept:  newFuncGauge(NameAdviceExcepted),
	}
	reloads := prometheus.NewCounterVec(counterOpts(NameReloads), family(NameReloads).Labels)
	// Both results exist from the start so that rate() and alerts see a 0,
	// not a missing series, before the first reload.
	m.reloadOK = reloads.WithLabelValues("ok")
	m.reloadError = reloads.WithLabelValues("error")

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latencies, m.linkUp, m.inFlight, m.acquirerConns,
		reloads, m.reversalQueue, m.revsLocked, m.journalLag, m.indexLag, m.journalErrors, m.rejected, m.unreadable, m.unmatched,
		m.translated, m.translateErrs, m.framingErrs,
		m.offline, m.standIn, m.standInLate, m.advicesOwed, m.adviceOldest, m.adviceExcept,
	)
	return m
}

// Registry returns the registry holding every metric, for tests or for
// registering more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format. A
// failing collector does not hide the others.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// LinkUp records whether link number conn (from 1) to one issuer endpoint
// is signed on. Issuer, endpoint and conn come from the configuration
// (conn is at most issuers[].connections), never from a peer.
func (m *Metrics) LinkUp(issuer, endpoint string, conn int, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.linkUp.WithLabelValues(issuer, endpoint, strconv.Itoa(conn)).Set(v)
}

// RemoveLink drops the series of a link that no longer exists (after a
// reload removed the issuer or endpoint), so it does not stay at its last
// value forever.
func (m *Metrics) RemoveLink(issuer, endpoint string, conn int) {
	m.linkUp.DeleteLabelValues(issuer, endpoint, strconv.Itoa(conn))
}

// SetInFlight sets the callback that reports, at scrape time, the requests
// pending per issuer. Nil removes it (no series exported).
func (m *Metrics) SetInFlight(f func() map[string]int) { m.inFlight.set(f) }

// SetOffline sets the callback that reports, at scrape time, each
// issuer's offline state (1 offline, 0 online). Nil removes it.
func (m *Metrics) SetOffline(f func() map[string]int) { m.offline.set(f) }

// StandIn counts one stand-in decision for issuer (from the config)
// with code (a switch code: 00, 57, 61, 65 or 91).
func (m *Metrics) StandIn(issuer, code string) { m.standIn.WithLabelValues(issuer, code).Inc() }

// StandInLate counts one issuer answer that came after the switch stood
// in; agreed: it agreed with the decision.
func (m *Metrics) StandInLate(issuer string, agreed bool) {
	m.standInLate.WithLabelValues(issuer, strconv.FormatBool(agreed)).Inc()
}

// SetAdviceQueue sets the callbacks that report, at scrape time, the
// stand-in advices owed, the age in seconds of the oldest and those on
// the exception list. Nil removes them.
func (m *Metrics) SetAdviceQueue(owed, oldest, exceptions func() float64) {
	m.advicesOwed.set(owed)
	m.adviceOldest.set(oldest)
	m.adviceExcept.set(exceptions)
}

// AcquirerConn adds delta (+1 on accept, -1 on close) to the open acquirer
// connections.
func (m *Metrics) AcquirerConn(delta int) { m.acquirerConns.Add(float64(delta)) }

// Reload counts one configuration reload, successful or not.
func (m *Metrics) Reload(ok bool) {
	if ok {
		m.reloadOK.Inc()
		return
	}
	m.reloadError.Inc()
}

// SetReversalQueue sets the callback that reports, at scrape time, the
// reversals waiting for delivery. Nil removes it (no series exported).
func (m *Metrics) SetReversalQueue(f func() float64) { m.reversalQueue.set(f) }

// SetReversalsLocked sets the callback that reports, at scrape time, the
// stored reversals whose key is not configured. Nil removes it.
func (m *Metrics) SetReversalsLocked(f func() float64) { m.revsLocked.set(f) }

// SetJournalLag sets the callback that reports, at scrape time, the journal
// entries not yet indexed. Nil removes it (no series exported).
func (m *Metrics) SetJournalLag(f func() float64) { m.journalLag.set(f) }

// SetJournalIndexLag sets the callback that reports, at scrape time, how
// far the journal's index is behind its log, in seconds. Nil removes it.
func (m *Metrics) SetJournalIndexLag(f func() float64) { m.indexLag.set(f) }

// JournalErrors counts n journal entries that could not be written.
func (m *Metrics) JournalErrors(n int) { m.journalErrors.Add(float64(n)) }

// Unreadable counts one frame without a readable MTI.
func (m *Metrics) Unreadable() { m.unreadable.Inc() }

// Unmatched counts one issuer answer that was not the answer to the
// request pending (or remembered) under its link STAN.
func (m *Metrics) Unmatched() { m.unmatched.Inc() }

// Rejected counts one connection or request refused before routing. reason
// is one of the Reason constants; any other value is counted as "other".
func (m *Metrics) Rejected(reason string) {
	c, ok := m.rejectedCache.load(reason)
	if !ok {
		r := reasonLabel(reason)
		c = m.rejectedCache.loadOrStore(r, func() prometheus.Counter {
			return m.rejected.WithLabelValues(r)
		})
		if r == otherLabel {
			c.Inc() // not cached under reason: the cache holds only known keys
			return
		}
	}
	c.Inc()
}

func counterOpts(name string) prometheus.CounterOpts {
	return prometheus.CounterOpts{Name: name, Help: family(name).Help}
}

func gaugeOpts(name string) prometheus.GaugeOpts {
	return prometheus.GaugeOpts{Name: name, Help: family(name).Help}
}
