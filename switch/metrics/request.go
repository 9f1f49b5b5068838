package metrics

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type requestKey struct{ mti, issuer, code string }

// requestChildren are the resolved series for one (mti, issuer, code), so
// the hot path never hashes label values.
type requestChildren struct {
	count  prometheus.Counter
	issuer prometheus.Observer // nil when issuer == ""
}

// Request records one answered request: its request MTI (e.g. "0100"), the
// issuer that answered ("" when the switch answered by itself), the response
// code (field 39) and the time from reading the request to writing the
// response. An MTI that is not four digits, or a code that is not two
// letters or digits, is counted as "invalid" so that peers cannot create
// series at will. The strings may alias reused buffers: they are copied
// when first seen. After warm-up Request does not allocate.
func (m *Metrics) Request(mti, issuer, code string, d time.Duration) {
	k := requestKey{mtiLabel(mti), issuer, codeLabel(code)}
	ch, ok := m.requestCache.load(k)
	if !ok {
		ch = m.newRequestChildren(k)
	}
	ch.count.Inc()
	s := d.Seconds()
	m.duration.Observe(s)
	if ch.issuer != nil {
		ch.issuer.Observe(s)
	}
}

func (m *Metrics) newRequestChildren(k requestKey) requestChildren {
	k = requestKey{cloneString(k.mti), cloneString(k.issuer), cloneString(k.code)}
	return m.requestCache.loadOrStore(k, func() requestChildren {
		ch := requestChildren{count: m.requests.WithLabelValues(k.mti, k.issuer, k.code)}
		if k.issuer != "" {
			ch.issuer = m.issuerDuration.WithLabelValues(k.issuer)
		}
		return ch
	})
}

// cloneString copies s so that a cached key never aliases a caller's
// buffer (for example an unsafe string over a reused frame).
func cloneString(s string) string { return strings.Clone(s) }
