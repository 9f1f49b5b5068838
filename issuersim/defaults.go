package issuersim

import "time"

// Tuning defaults. They are not configurable: the simulator is a test and
// demo tool and these values suit loopback and LAN links alike.
const (
	// acceptBackoffMin is the first pause after a failed Accept (for example
	// EMFILE); it doubles on each further failure.
	acceptBackoffMin = 5 * time.Millisecond
	// acceptBackoffMax caps the Accept backoff.
	acceptBackoffMax = time.Second
	// outQueueLen is how many packed responses may wait for a connection's
	// writer before the reader blocks, which in turn stops reading from a
	// peer that does not read its answers.
	outQueueLen = 256
	// writeBufferSize is the buffered writer size per connection; bursts of
	// responses up to this size leave in one write.
	writeBufferSize = 32 << 10
	// approvalCodeLen is the fixed length of field 38.
	approvalCodeLen = 6
	// malformedCut is how many bytes a Malformed answer loses (at most; never
	// from field 11 or before).
	malformedCut = 3
)
