package replay

import (
	"sync"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: 1 µs to 1 hour, 3 significant digits.
const (
	histMinUS  = 1
	histMaxUS  = 3_600_000_000
	histDigits = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMinUS, histMaxUS, histDigits) }

// recorder holds one connection's statistics. Only that connection's
// reader and sweeper write to it, so its lock is rarely contended; the
// monitor merges recorders for progress lines and the per-second series.
type recorder struct {
	mu        sync.Mutex
	total     *hdrhistogram.Histogram
	sec       *hdrhistogram.Histogram // since the last series tick
	answered  int64
	timeouts  int64
	errors    int64
	late      int64 // responses after their request timed out
	failed    int64 // validation failures
	codes     map[codeKey]int64
	failures  []Failure // first few, in arrival order
	maxDetail int
}

func newRecorder(maxDetail int) *recorder {
	return &recorder{total: newHist(), sec: newHist(), codes: make(map[codeKey]int64), maxDetail: maxDetail}
}

// answer records a matched response; f is non-nil for a validation failure.
func (rc *recorder) answer(latNS int64, code []byte, f *Failure) {
	us := max(latNS/1000, histMinUS)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answered++
	_ = rc.total.RecordValue(min(us, histMaxUS))
	_ = rc.sec.RecordValue(min(us, histMaxUS))
	if k, ok := toCodeKey(code); ok {
		rc.codes[k]++
	}
	if f != nil {
		rc.failed++
		if len(rc.failures) < rc.maxDetail {
			rc.failures = append(rc.failures, *f)
		}
	}
}

func (rc *recorder) count(field *int64, n int64) {
	rc.mu.Lock()
	*field += n
	rc.mu.Unlock()
}

// totals is a merged snapshot of recorders.
type totals struct {
	hist                                     *hdrhistogram.Histogram
	answered, timeouts, errors, late, failed int64
	codes                                    map[string]int64
	failures                                 []Failure
}

// mergeInto adds rc's cumulative counters and histogram to t.
func (rc *recorder) mergeInto(t *totals, withDetail bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	t.hist.Merge(rc.total)
	t.answered += rc.answered
	t.timeouts += rc.timeouts
	t.errors += rc.errors
	t.late += rc.late
	t.failed += rc.failed
	if !withDetail {
		return
	}
	for k, n := range rc.codes {
		t.codes[codeString(k)] += n
	}
	t.failures = append(t.failures, rc.failures...)
}

// takeSecond moves the per-second histogram into h and resets it.
func (rc *recorder) takeSecond(h *hdrhistogram.Histogram) (answered int64) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	h.Merge(rc.sec)
	rc.sec.Reset()
	return rc.answered
}

// codeKey holds a response code: 2 characters in 1987 (the last byte
// 0), a 3-digit action code in 1993.
type codeKey [3]byte

// toCodeKey takes a field 39 of 2 or 3 bytes.
func toCodeKey(code []byte) (codeKey, bool) {
	var k codeKey
	if len(code) != 2 && len(code) != 3 {
		return k, false
	}
	copy(k[:], code)
	return k, true
}

// codeString renders a response code, replacing bytes that are not
// printable ASCII so a hostile target cannot inject into reports.
func codeString(k codeKey) string {
	n := len(k)
	if k[2] == 0 {
		n = 2
	}
	b := k
	for i, c := range b[:n] {
		if c < 0x21 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b[:n])
}
