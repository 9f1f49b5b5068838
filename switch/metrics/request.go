package metrics

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// requestKey identifies one (mti, issuer, code) series. The two labels
// from the wire are packed in a word (see labelKey): a hit then hashes
// one string, not three.
type requestKey struct {
	issuer string
	labels uint64
}

// requestChildren are the resolved series for one (mti, issuer, code), so
// the hot path never hashes label values.
type requestChildren struct {
	count   prometheus.Counter
	latency *latency // the issuer's, or the switch's own answers'
}

// Request records one answered request: its request MTI (e.g. "0100"), the
// issuer that answered ("" when the switch answered by itself), the response
// code (field 39) and the time from reading the request to writing the
// response. An MTI outside the request MTIs the switch handles, or a code
// that is neither two digits nor an EMV offline code, is counted as "other" so that peers cannot create
// series at will (see mtiLabel, codeLabel). The strings may alias reused buffers: they are copied
// when first seen. After warm-up Request does not allocate.
func (m *Metrics) Request(mti, issuer, code string, d time.Duration) {
	k := requestKey{issuer, labelKey(mti, code)}
	ch, ok := m.requestCache.load(k)
	if !ok {
		ch = m.newRequestChildren(k, mtiLabel(mti), codeLabel(code))
	}
	ch.count.Inc()
	ch.latency.observe(d)
}

// labelKey packs the MTI and code labels, 4 and 2 bytes, in one word. The
// other label packs as zero, which no known one does (digits and letters
// are not zero bytes).
func labelKey(mti, code string) uint64 {
	var k uint64
	if l := mtiLabel(mti); len(l) == 4 {
		k = uint64(l[0]) | uint64(l[1])<<8 | uint64(l[2])<<16 | uint64(l[3])<<24
	}
	if l := codeLabel(code); len(l) == 2 {
		k |= uint64(l[0])<<32 | uint64(l[1])<<40
	}
	return k
}

// newRequestChildren keeps only clones of the strings: were the caller's
// stored, escape analysis would make every caller heap-allocate the
// strings it passes to Request (callers build them from reused buffers).
func (m *Metrics) newRequestChildren(k requestKey, mti, code string) requestChildren {
	own := [3]string{cloneString(mti), cloneString(k.issuer), cloneString(code)}
	return m.requestCache.loadOrStore(requestKey{own[1], k.labels}, func() requestChildren {
		return requestChildren{
			count:   m.requests.WithLabelValues(own[:]...),
			latency: m.latencies.of(own[1]),
		}
	})
}

// cloneString copies s so that a cached key never aliases a caller's
// buffer (for example an unsafe string over a reused frame).
func cloneString(s string) string { return strings.Clone(s) }
