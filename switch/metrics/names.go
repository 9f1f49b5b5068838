package metrics

// Metric family names. They are the contract with dashboards and alerts:
// renaming one is a breaking change.
const (
	NameRequests        = "cardswitch_requests_total"
	NameRequestDuration = "cardswitch_request_duration_seconds"
	NameIssuerDuration  = "cardswitch_issuer_duration_seconds"
	NameLinkUp          = "cardswitch_issuer_link_up"
	NameInFlight        = "cardswitch_issuer_in_flight"
	NameAcquirerConns   = "cardswitch_acquirer_connections"
	NameReloads         = "cardswitch_config_reloads_total"
	NameReversalQueue   = "cardswitch_reversal_queue_depth"
	NameReversalsLocked = "cardswitch_reversals_key_missing"
	NameJournalLag      = "cardswitch_journal_lag"
	NameJournalIndexLag = "cardswitch_journal_index_lag_seconds"
	NameJournalErrors   = "cardswitch_journal_errors_total"
	NameRejected        = "cardswitch_rejected_total"
	NameUnreadable      = "cardswitch_unreadable_frames_total"
	NameUnmatched       = "cardswitch_issuer_unmatched_answers_total"
	NameTranslated      = "cardswitch_translated_messages_total"
	NameTranslateErrors = "cardswitch_translate_errors_total"
	NameFramingErrors   = "cardswitch_framing_errors_total"
	NameIssuerOffline   = "cardswitch_issuer_offline"
	NameStandIn         = "cardswitch_stand_in_total"
	NameAdvicesOwed     = "cardswitch_stand_in_advices_owed"
	NameAdviceOldest    = "cardswitch_stand_in_advice_oldest_seconds"
	NameAdviceExcepted  = "cardswitch_stand_in_advice_exceptions"
	NameStandInLate     = "cardswitch_stand_in_late_answers_total"
)

// Type is a Prometheus metric type as it appears in the exposition format.
type Type string

// The metric types used by this package.
const (
	Counter   Type = "counter"
	Gauge     Type = "gauge"
	Histogram Type = "histogram"
)

// Family describes one metric family registered by New.
type Family struct {
	Name   string   // full metric name, e.g. cardswitch_requests_total
	Type   Type     // counter, gauge or histogram
	Labels []string // label names, in order
	Help   string   // the HELP text
}

// families is the single source of names, types, labels and help texts.
var families = []Family{
	{NameRequests, Counter, []string{"mti", "issuer", "code"}, "Requests answered, by request MTI (one of the 16 request MTIs the switch handles, else other), issuer (empty when the switch answered without one) and response code (field 39: two digits or an EMV offline code Y1-Y3, Z1-Z3, else other)."},
	{NameRequestDuration, Histogram, nil, "Time from reading a request to queuing its response (its journal write and the socket write follow), across the whole switch."},
	{NameIssuerDuration, Histogram, []string{"issuer"}, "Time from reading a request to queuing its response (its journal write and the socket write follow), for requests routed to an issuer."},
	{NameLinkUp, Gauge, []string{"issuer", "endpoint", "conn"}, "1 when the issuer link to the endpoint is signed on, else 0; conn tells an endpoint's links apart (1 to issuers[].connections)."},
	{NameInFlight, Gauge, []string{"issuer"}, "Requests sent to the issuer and not yet answered."},
	{NameAcquirerConns, Gauge, nil, "Open acquirer connections."},
	{NameReloads, Counter, []string{"result"}, "Configuration reloads, by result (ok or error)."},
	{NameReversalQueue, Gauge, nil, "Reversals (0420) waiting to be delivered to an issuer."},
	{NameReversalsLocked, Gauge, nil, "Stored reversals and advices whose encryption key is not in journal.key_file (counted at start): kept, not sent."},
	{NameJournalLag, Gauge, nil, "Journal entries not yet indexed (queued for the log, or in it and waiting for the indexer)."},
	{NameJournalIndexLag, Gauge, nil, "Age in seconds of the oldest journal entry in the log and not yet in its index (SQLite journal); 0 when the index holds every entry. Answers never wait for the index: past journal.index_lag_max the switch warns and keeps answering."},
	{NameJournalErrors, Counter, nil, "Journal entries that could not be written (refused, disk full, closed); their answers were sent anyway."},
	{NameRejected, Counter, []string{"reason"}, "Connections or requests refused before routing, by reason."},
	{NameUnreadable, Counter, nil, "Frames from acquirers without a readable MTI (no answer possible)."},
	{NameTranslated, Counter, []string{"side", "name", "dialect"}, "Messages translated between an endpoint's dialect and the canonical form (iso87ascii), by side (acquirer or issuer), name (the listener, listen for listen.address, or the issuer) and dialect."},
	{NameTranslateErrors, Counter, []string{"side", "name", "dialect"}, "Messages that could not be translated (a field the target cannot express): an acquirer request is answered 30, an issuer answer is unreadable; labels as cardswitch_translated_messages_total."},
	{NameFramingErrors, Counter, []string{"side", "name", "dialect"}, "Frames that broke their dialect's framing (a length that is not a number, a frame shorter than its header, a TPDU whose ID is not 0x60): the connection is closed; labels as cardswitch_translated_messages_total."},
	{NameIssuerOffline, Gauge, []string{"issuer"}, "1 while the switch holds the issuer offline after issuers[].offline_after consecutive timeouts (its requests decided at once), else 0."},
	{NameStandIn, Counter, []string{"issuer", "code"}, "Stand-in decisions the switch made for an issuer, by issuer and response code (00 approved, 57, 61, 65 declined by the issuer's stand_in limits, 91 when the decision could not be stored)."},
	{NameAdvicesOwed, Gauge, nil, "Stand-in advices (0120) stored and not yet acknowledged by their issuer (the exception list excluded)."},
	{NameAdviceOldest, Gauge, nil, "Age in seconds of the oldest stand-in advice owed; 0 when none."},
	{NameAdviceExcepted, Gauge, nil, "Stand-in advices past their issuer's advice_ttl, on the exception list (cardswitch txn advices): kept, no longer sent."},
	{NameStandInLate, Counter, []string{"issuer", "agreed"}, "Issuer answers that came after the switch stood in for the request (never relayed), by whether the issuer's answer agreed with the decision (approved both, or declined both)."},
	{NameUnmatched, Counter, nil, "Issuer answers that came under a request's link STAN but were not its answer (another PAN, amount, RRN, terminal id or MTI); never relayed."},
}

// Families returns a copy of the metric families that New registers, besides
// the standard go_* and process_* collectors.
func Families() []Family {
	out := make([]Family, len(families))
	for i, f := range families {
		f.Labels = append([]string(nil), f.Labels...)
		out[i] = f
	}
	return out
}

func family(name string) Family {
	for _, f := range families {
		if f.Name == name {
			return f
		}
	}
	panic("metrics: unknown family " + name)
}

// DurationBuckets are the latency histogram bounds in seconds: 100µs to
// 10s, dense where a healthy switch and issuer answer (sub-millisecond to a
// few hundred milliseconds), sparse up to typical issuer timeouts.
var DurationBuckets = [...]float64{
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5, 10,
}

// Reasons for Rejected, the only values its reason label takes (anything
// else is counted as "other").
const (
	ReasonMaxConnections = "max_connections" // switch-wide or per-acquirer connection cap
	// ReasonMaxConnectionsPerIP: listen.max_connections_per_ip.
	ReasonMaxConnectionsPerIP = "max_connections_per_ip"
	// ReasonMaxPendingPerIP: listen.max_pending_per_ip (connections without a first frame).
	ReasonMaxPendingPerIP = "max_pending_per_ip"
	ReasonUnknownAcquirer = "unknown_acquirer" // no acquirer matches the peer address or certificate
	ReasonInstitution     = "institution"      // field 32 is not the acquirer's institution id
	ReasonRate            = "rate"             // per-acquirer rate limit
	ReasonInFlight        = "in_flight"        // in-flight cap (per connection, acquirer or issuer, or switch-wide)
	ReasonOversized       = "oversized"        // length header above the maximum message size
	ReasonFrameTimeout    = "frame_timeout"    // a started frame did not complete in time
	ReasonIdle            = "idle"             // connection idle for too long
	ReasonSlowReader      = "slow_reader"      // acquirer did not read its responses
	ReasonTLS             = "tls"              // TLS handshake failed
)
