package switchd

import (
	"github.com/cardswitch/cardswitch/internal/pan"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
)

// entrySpans are where a request's journal fields lie in its frame, in
// the order below. A relayed request keeps them (request.entrySpans), so that
// its answer is journaled without scanning the request again.
type entrySpans = [spanCount]iso.Span

const (
	spanMTI = iota
	spanProcessingCode
	spanAmount
	spanCurrency
	spanSTAN
	spanRRN
	spanTerminal
	spanTransmissionTime
	spanPAN   // the routing PAN's digits, in field 2 or track 2 (masked when read)
	spanCount // how many
)

// entrySpanFields are the fields of the spans before spanPAN, in order.
var entrySpanFields = [spanPAN]int{0, 3, 4, 49, 11, 37, 41, 7}

// requestSpans returns the spans of a request's journal fields in v's
// frame.
func requestSpans(v *iso.View) (sp entrySpans) {
	for i, id := range entrySpanFields {
		sp[i] = v.Span(id)
	}
	sp[spanPAN] = iso.RoutingPANSpan(v)
	return sp
}

// entry is the journal entry of a, straight from its frame at its spans
// (the fields alias the frame); the PAN is masked into masked.
func (c *acqConn) entry(a *answer, masked *[pan.MaxLen]byte) journal.Fields {
	frame, sp := a.frame, &a.spans
	return journal.Fields{Time: a.started, Conn: c.id, Latency: a.latency, Acquirer: c.acquirer,
		Remote: c.remote, Issuer: a.issuer, MTI: sp[spanMTI].In(frame),
		ProcessingCode: sp[spanProcessingCode].In(frame), Amount: sp[spanAmount].In(frame),
		Currency: sp[spanCurrency].In(frame), STAN: sp[spanSTAN].In(frame), RRN: sp[spanRRN].In(frame),
		Terminal: sp[spanTerminal].In(frame), TransmissionTime: sp[spanTransmissionTime].In(frame),
		PAN: pan.AppendMasked(masked[:0], sp[spanPAN].In(frame)), ResponseCode: a.code, Outcome: a.outcome,
		Reason: a.reason, AcquirerDialect: c.lst.journalName, IssuerDialect: c.s.routes.Load().issuerDialect(a.issuer)}
}
