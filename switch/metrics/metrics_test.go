package metrics_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/switch/metrics"
)

func gatherEq(t *testing.T, m *metrics.Metrics, want string, names ...string) {
	t.Helper()
	require.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...))
}

func TestRequestCountsAndHistograms(t *testing.T) {
	m := metrics.New()
	m.Request("0100", "bank-a", "00", 300*time.Microsecond)
	m.Request("0100", "bank-a", "00", 2*time.Millisecond)
	m.Request("0200", "bank-a", "51", time.Millisecond)
	m.Request("0100", "", "15", 50*time.Microsecond)

	gatherEq(t, m, `
# HELP cardswitch_requests_total Requests answered, by request MTI (one of the 16 request MTIs the switch handles, else other), issuer (empty when the switch answered without one) and response code (field 39: two digits or an EMV offline code Y1-Y3, Z1-Z3, else other).
# TYPE cardswitch_requests_total counter
cardswitch_requests_total{code="00",issuer="bank-a",mti="0100"} 2
cardswitch_requests_total{code="51",issuer="bank-a",mti="0200"} 1
cardswitch_requests_total{code="15",issuer="",mti="0100"} 1
`, metrics.NameRequests)

	assert.Equal(t, 1, testutil.CollectAndCount(m.Registry(), metrics.NameRequestDuration))
	// Only requests that reached an issuer are in the per-issuer histogram.
	assert.Equal(t, 1, testutil.CollectAndCount(m.Registry(), metrics.NameIssuerDuration))
	assert.Equal(t, uint64(4), histogramCount(t, m, metrics.NameRequestDuration, ""))
	assert.Equal(t, uint64(3), histogramCount(t, m, metrics.NameIssuerDuration, "bank-a"))
}

// TestDurationIsTheSumOfIssuersAndOwnAnswers: each answer is observed once,
// in its issuer's histogram or the switch's own; the switch-wide histogram
// is their sum at scrape time, bucket by bucket. Bounds are inclusive, as in
// Prometheus's own histograms (1ms lands in le="0.001").
func TestDurationIsTheSumOfIssuersAndOwnAnswers(t *testing.T) {
	m := metrics.New()
	m.Request("0100", "bank-a", "00", 300*time.Microsecond)
	m.Request("0100", "bank-a", "05", 2*time.Millisecond)
	m.Request("0200", "bank-b", "00", time.Millisecond)
	m.Request("0100", "", "15", 50*time.Microsecond)
	m.Request("0100", "", "91", 20*time.Second)

	const bucketsHead = "\n# HELP cardswitch_%s Time from reading a request to queuing its response (its journal write and the socket write follow), %s\n# TYPE cardswitch_%s histogram\n"
	all := fmt.Sprintf(bucketsHead, "request_duration_seconds", "across the whole switch.", "request_duration_seconds") +
		histogramText("cardswitch_request_duration_seconds", "", []int{1, 1, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4}, 5, 20.00335)
	per := fmt.Sprintf(bucketsHead, "issuer_duration_seconds", "for requests routed to an issuer.", "issuer_duration_seconds") +
		histogramText("cardswitch_issuer_duration_seconds", `issuer="bank-a",`, []int{0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, 2, 0.0023) +
		histogramText("cardswitch_issuer_duration_seconds", `issuer="bank-b",`, []int{0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 0.001)
	gatherEq(t, m, all, metrics.NameRequestDuration)
	gatherEq(t, m, per, metrics.NameIssuerDuration)
}

// histogramText is one histogram series in the exposition format; labels,
// when not empty, ends with a comma.
func histogramText(name, labels string, cumulative []int, count int, sum float64) string {
	var b strings.Builder
	for i, ub := range metrics.DurationBuckets {
		fmt.Fprintf(&b, "%s_bucket{%sle=\"%g\"} %d\n", name, labels, ub, cumulative[i])
	}
	fmt.Fprintf(&b, "%s_bucket{%sle=\"+Inf\"} %d\n", name, labels, count)
	braces := ""
	if labels != "" {
		braces = "{" + strings.TrimSuffix(labels, ",") + "}"
	}
	fmt.Fprintf(&b, "%s_sum%s %g\n%s_count%s %d\n", name, braces, sum, name, braces, count)
	return b.String()
}

// histogramCount returns the sample count of the histogram series whose
// issuer label is issuer ("" for the unlabeled one).
func histogramCount(t *testing.T, m *metrics.Metrics, name, issuer string) uint64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	require.NoError(t, err)
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			got := ""
			for _, l := range mt.GetLabel() {
				if l.GetName() == "issuer" {
					got = l.GetValue()
				}
			}
			if got == issuer {
				return mt.GetHistogram().GetSampleCount()
			}
		}
	}
	t.Fatalf("no %s{issuer=%q}", name, issuer)
	return 0
}

func TestRequestLabelsAreBounded(t *testing.T) {
	tests := []struct {
		name, mti, code, wantMTI, wantCode string
	}{
		{"valid", "0100", "00", "0100", "00"},
		{"letters in code", "0200", "Y1", "0200", "Y1"},
		{"advice repeat", "0421", "00", "0421", "00"},
		{"network management", "0800", "00", "0800", "00"},
		{"short mti", "100", "00", "other", "00"},
		{"letter in mti", "01X0", "00", "other", "00"},
		{"version 1", "1100", "00", "other", "00"},
		{"unsupported class", "0300", "00", "other", "00"},
		{"response mti", "0110", "00", "other", "00"},
		{"issuer origin", "0102", "00", "other", "00"},
		{"letters outside the known codes", "0100", "N7", "0100", "other"},
		{"long code", "0100", "000", "0100", "other"},
		{"empty code", "0100", "", "0100", "other"},
		{"binary code", "0100", "\x00\xff", "0100", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metrics.New()
			m.Request(tt.mti, "bank-a", tt.code, time.Millisecond)
			gatherEq(t, m, `
# HELP cardswitch_requests_total Requests answered, by request MTI (one of the 16 request MTIs the switch handles, else other), issuer (empty when the switch answered without one) and response code (field 39: two digits or an EMV offline code Y1-Y3, Z1-Z3, else other).
# TYPE cardswitch_requests_total counter
cardswitch_requests_total{code="`+tt.wantCode+`",issuer="bank-a",mti="`+tt.wantMTI+`"} 1
`, metrics.NameRequests)
		})
	}
}

// The switch may pass strings that alias a frame buffer it reuses; the
// cached labels must not change when the buffer does.
func TestRequestCopiesAliasedStrings(t *testing.T) {
	m := metrics.New()
	buf := []byte("0100bank-a00")
	mti := unsafe.String(&buf[0], 4)
	issuer := unsafe.String(&buf[4], 6)
	code := unsafe.String(&buf[10], 2)
	m.Request(mti, issuer, code, time.Millisecond)
	copy(buf, "0200bank-b51")
	m.Request("0100", "bank-a", "00", time.Millisecond)

	gatherEq(t, m, `
# HELP cardswitch_requests_total Requests answered, by request MTI (one of the 16 request MTIs the switch handles, else other), issuer (empty when the switch answered without one) and response code (field 39: two digits or an EMV offline code Y1-Y3, Z1-Z3, else other).
# TYPE cardswitch_requests_total counter
cardswitch_requests_total{code="00",issuer="bank-a",mti="0100"} 2
`, metrics.NameRequests)
}

func TestRequestConcurrent(t *testing.T) {
	m := metrics.New()
	const workers, each = 8, 500
	codes := []string{"00", "05", "51", "91"}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m.Request("0100", "bank-a", codes[(w+i)%len(codes)], time.Millisecond)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, uint64(workers*each), histogramCount(t, m, metrics.NameRequestDuration, ""))
	assert.Equal(t, uint64(workers*each), histogramCount(t, m, metrics.NameIssuerDuration, "bank-a"))
	assert.Equal(t, len(codes), testutil.CollectAndCount(m.Registry(), metrics.NameRequests))
}

func TestRequestDoesNotAllocateAfterWarmUp(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	m := metrics.New()
	m.Request("0100", "bank-a", "00", time.Millisecond)
	m.Rejected(metrics.ReasonRate)
	allocs := testing.AllocsPerRun(1000, func() {
		m.Request("0100", "bank-a", "00", time.Millisecond)
		m.Rejected(metrics.ReasonRate)
		m.Unreadable()
		m.JournalErrors(1)
		m.AcquirerConn(1)
	})
	assert.Zero(t, allocs)
}

func TestGauges(t *testing.T) {
	m := metrics.New()
	m.LinkUp("bank-a", "127.0.0.1:9101", 1, true)
	m.LinkUp("bank-a", "127.0.0.1:9101", 2, true)
	m.LinkUp("bank-a", "127.0.0.1:9102", 1, true)
	m.LinkUp("bank-a", "127.0.0.1:9102", 1, false)
	m.LinkUp("bank-b", "127.0.0.1:9201", 1, true)
	m.RemoveLink("bank-b", "127.0.0.1:9201", 1)
	m.AcquirerConn(1)
	m.AcquirerConn(1)
	m.AcquirerConn(-1)

	gatherEq(t, m, `
# HELP cardswitch_issuer_link_up 1 when the issuer link to the endpoint is signed on, else 0; conn tells an endpoint's links apart (1 to issuers[].connections).
# TYPE cardswitch_issuer_link_up gauge
cardswitch_issuer_link_up{conn="1",endpoint="127.0.0.1:9101",issuer="bank-a"} 1
cardswitch_issuer_link_up{conn="2",endpoint="127.0.0.1:9101",issuer="bank-a"} 1
cardswitch_issuer_link_up{conn="1",endpoint="127.0.0.1:9102",issuer="bank-a"} 0
# HELP cardswitch_acquirer_connections Open acquirer connections.
# TYPE cardswitch_acquirer_connections gauge
cardswitch_acquirer_connections 1
`, metrics.NameLinkUp, metrics.NameAcquirerConns)
}

func TestCallbackGauges(t *testing.T) {
	m := metrics.New()
	// Unset callbacks export nothing rather than a misleading 0.
	assert.Zero(t, testutil.CollectAndCount(m.Registry(), metrics.NameInFlight, metrics.NameReversalQueue, metrics.NameJournalLag,
		metrics.NameJournalIndexLag))

	m.SetInFlight(func() map[string]int { return map[string]int{"bank-a": 3, "bank-b": 0} })
	m.SetReversalQueue(func() float64 { return 7 })
	m.SetJournalLag(func() float64 { return 2 })
	m.SetJournalIndexLag(func() float64 { return 1.5 })
	gatherEq(t, m, `
# HELP cardswitch_issuer_in_flight Requests sent to the issuer and not yet answered.
# TYPE cardswitch_issuer_in_flight gauge
cardswitch_issuer_in_flight{issuer="bank-a"} 3
cardswitch_issuer_in_flight{issuer="bank-b"} 0
# HELP cardswitch_reversal_queue_depth Reversals (0420) waiting to be delivered to an issuer.
# TYPE cardswitch_reversal_queue_depth gauge
cardswitch_reversal_queue_depth 7
# HELP cardswitch_journal_lag Journal entries not yet indexed (queued for the log, or in it and waiting for the indexer).
# TYPE cardswitch_journal_lag gauge
cardswitch_journal_lag 2
# HELP cardswitch_journal_index_lag_seconds Age in seconds of the oldest journal entry in the log and not yet in its index (SQLite journal); 0 when the index holds every entry. Answers never wait for the index: past journal.index_lag_max the switch warns and keeps answering.
# TYPE cardswitch_journal_index_lag_seconds gauge
cardswitch_journal_index_lag_seconds 1.5
`, metrics.NameInFlight, metrics.NameReversalQueue, metrics.NameJournalLag, metrics.NameJournalIndexLag)

	m.SetInFlight(nil)
	m.SetReversalQueue(nil)
	m.SetJournalLag(nil)
	m.SetJournalIndexLag(nil)
	assert.Zero(t, testutil.CollectAndCount(m.Registry(), metrics.NameInFlight, metrics.NameReversalQueue, metrics.NameJournalLag,
		metrics.NameJournalIndexLag))
}

func TestCounters(t *testing.T) {
	m := metrics.New()
	gatherEq(t, m, `
# HELP cardswitch_config_reloads_total Configuration reloads, by result (ok or error).
# TYPE cardswitch_config_reloads_total counter
cardswitch_config_reloads_total{result="error"} 0
cardswitch_config_reloads_total{result="ok"} 0
`, metrics.NameReloads)

	m.Reload(true)
	m.Reload(true)
	m.Reload(false)
	m.Rejected(metrics.ReasonRate)
	m.Rejected(metrics.ReasonRate)
	m.Rejected(metrics.ReasonUnknownAcquirer)
	m.Unreadable()
	gatherEq(t, m, `
# HELP cardswitch_config_reloads_total Configuration reloads, by result (ok or error).
# TYPE cardswitch_config_reloads_total counter
cardswitch_config_reloads_total{result="error"} 1
cardswitch_config_reloads_total{result="ok"} 2
# HELP cardswitch_rejected_total Connections or requests refused before routing, by reason.
# TYPE cardswitch_rejected_total counter
cardswitch_rejected_total{reason="rate"} 2
cardswitch_rejected_total{reason="unknown_acquirer"} 1
# HELP cardswitch_unreadable_frames_total Frames from acquirers without a readable MTI (no answer possible).
# TYPE cardswitch_unreadable_frames_total counter
cardswitch_unreadable_frames_total 1
`, metrics.NameReloads, metrics.NameRejected, metrics.NameUnreadable)
}

// Families must list exactly what the registry exports once every metric
// has a value: dashboards are checked against Families.
func TestFamiliesMatchRegistry(t *testing.T) {
	m := populated()
	fams, err := m.Registry().Gather()
	require.NoError(t, err)
	var got []string
	types := map[string]string{}
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "cardswitch_") {
			got = append(got, f.GetName())
			types[f.GetName()] = strings.ToLower(f.GetType().String())
		}
	}
	var want []string
	for _, f := range metrics.Families() {
		want = append(want, f.Name)
		assert.Equal(t, string(f.Type), types[f.Name], f.Name)
	}
	sort.Strings(want)
	assert.Equal(t, want, got)

	// The standard collectors are there too.
	assert.Positive(t, testutil.CollectAndCount(m.Registry(), "go_goroutines"))
}

func TestHandlerServesExposition(t *testing.T) {
	m := populated()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, f := range metrics.Families() {
		assert.Contains(t, string(body), "# TYPE "+f.Name+" ")
	}
}

func TestFamiliesReturnsCopy(t *testing.T) {
	f := metrics.Families()
	f[0].Name = "changed"
	f[0].Labels[0] = "changed"
	assert.Equal(t, metrics.NameRequests, metrics.Families()[0].Name)
	assert.Equal(t, "mti", metrics.Families()[0].Labels[0])
}

func populated() *metrics.Metrics {
	m := metrics.New()
	m.Edge(metrics.SideAcquirer, "listen", "iso87binary").Translated.Inc()
	m.Request("0100", "bank-a", "00", time.Millisecond)
	m.LinkUp("bank-a", "127.0.0.1:9101", 1, true)
	m.SetInFlight(func() map[string]int { return map[string]int{"bank-a": 1} })
	m.SetOffline(func() map[string]int { return map[string]int{"bank-a": 0} })
	m.StandIn("bank-a", "00")
	m.StandInLate("bank-a", true)
	m.SetAdviceQueue(func() float64 { return 1 }, func() float64 { return 2 }, func() float64 { return 0 })
	m.AcquirerConn(1)
	m.Reload(true)
	m.SetReversalQueue(func() float64 { return 0 })
	m.SetReversalsLocked(func() float64 { return 0 })
	m.SetJournalLag(func() float64 { return 0 })
	m.SetJournalIndexLag(func() float64 { return 0 })
	m.Rejected(metrics.ReasonRate)
	m.Unreadable()
	return m
}

// Every possible MTI and every two-character code leave at most the 16
// known MTIs, the 106 known codes and "other" as label values.
func TestRequestLabelsTakeOnlyKnownValues(t *testing.T) {
	m := metrics.New()
	for i := range 10_000 {
		m.Request(fmt.Sprintf("%04d", i), "bank-a", "00", time.Millisecond)
	}
	for a := 0x20; a < 0x7f; a++ {
		for b := 0x20; b < 0x7f; b++ {
			m.Request("0100", "bank-a", string([]byte{byte(a), byte(b)}), time.Millisecond)
		}
	}
	mtis, codes := map[string]bool{}, map[string]bool{}
	fams, err := m.Registry().Gather()
	require.NoError(t, err)
	for _, f := range fams {
		if f.GetName() != metrics.NameRequests {
			continue
		}
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				switch l.GetName() {
				case "mti":
					mtis[l.GetValue()] = true
				case "code":
					codes[l.GetValue()] = true
				}
			}
		}
	}
	assert.Len(t, mtis, 16+1)
	assert.True(t, mtis["other"] && mtis["0100"] && mtis["0421"] && mtis["0800"])
	assert.Len(t, codes, 100+6+1)
	assert.True(t, codes["other"] && codes["00"] && codes["Y1"] && codes["Z3"])
}

// A reason outside the Reason constants is counted as "other".
func TestRejectedReasonsAreBounded(t *testing.T) {
	m := metrics.New()
	m.Rejected(metrics.ReasonTLS)
	m.Rejected("made up")
	m.Rejected("made up too")
	gatherEq(t, m, `
# HELP cardswitch_rejected_total Connections or requests refused before routing, by reason.
# TYPE cardswitch_rejected_total counter
cardswitch_rejected_total{reason="other"} 2
cardswitch_rejected_total{reason="tls"} 1
`, metrics.NameRejected)
}
