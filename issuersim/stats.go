package issuersim

import "sync/atomic"

// Stats are cumulative counters since New. Every request that unpacks is
// counted in Requests and in exactly one of Approved, Declined, NoAnswer,
// Malformed, NetworkMgmt, Reversals, ReversalsDropped or Unsupported;
// frames that do not unpack are counted only in Unparseable.
type Stats struct {
	Connections int64 // connections accepted
	Requests    int64 // frames that unpacked
	Approved    int64 // 0100/0200 answered 00
	Declined    int64 // 0100/0200 answered with any other code
	NoAnswer    int64 // 0100/0200 deliberately left unanswered (rule, down_after)
	Malformed   int64 // 0100/0200 answered with a truncated frame (rule)
	NetworkMgmt int64 // 0800 answered
	Reversals   int64 // 0400/0420 answered (every answered attempt)
	// ReversalsAcked counts distinct reversals answered (by field 90, else
	// STAN and RRN): a retransmission answered again is not counted twice.
	ReversalsAcked int64
	// ReversalsDropped counts reversal attempts left unanswered (ReversalDrop).
	ReversalsDropped int64
	Unsupported      int64 // other MTIs, not answered
	Unparseable      int64 // frames that failed to unpack
}

type counters struct {
	connections, requests, approved, declined, noAnswer, malformed,
	networkMgmt, reversals, reversalsAcked, reversalsDropped, unsupported, unparseable atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Connections:      c.connections.Load(),
		Requests:         c.requests.Load(),
		Approved:         c.approved.Load(),
		Declined:         c.declined.Load(),
		NoAnswer:         c.noAnswer.Load(),
		Malformed:        c.malformed.Load(),
		NetworkMgmt:      c.networkMgmt.Load(),
		Reversals:        c.reversals.Load(),
		ReversalsAcked:   c.reversalsAcked.Load(),
		ReversalsDropped: c.reversalsDropped.Load(),
		Unsupported:      c.unsupported.Load(),
		Unparseable:      c.unparseable.Load(),
	}
}
