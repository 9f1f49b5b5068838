package issuersim

import (
	"slices"
	"sync"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
)

// reversalDrops counts the attempts of each distinct reversal so that the
// first ReversalDrop of them go unanswered, and keeps the last maxSeen
// reversal attempts received (Sim.Reversals). Keys are kept for the
// simulator's lifetime: it is a test tool, and a key is a few dozen bytes.
type reversalDrops struct {
	mu       sync.Mutex
	attempts map[string]int
	seen     []ReversalSeen
}

// maxSeen bounds the reversal attempts a simulator keeps for Reversals.
const maxSeen = 4096

// ReversalSeen is one reversal attempt (0400, 0401, 0420, 0421) as the
// simulator received it: its MTI and its fields as on the wire (fixed
// numeric fields with their leading zeros), the PAN (2) included, as an
// issuer receives it. Track, PIN and ICC data (iso.SensitiveFields) are
// recorded as present, with an empty value: their content is never kept.
type ReversalSeen struct {
	MTI    string
	Fields map[int]string
}

// Reversals returns the last reversal attempts received (up to 4096),
// oldest first: what a test asserts the switch sent.
func (s *Sim) Reversals() []ReversalSeen {
	d := &s.revDrops
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.seen)
}

// record keeps the reversal attempt m (MTI mti).
func (d *reversalDrops) record(m *iso8583.Message, mti string) {
	fs := make(map[int]string)
	for id := range m.GetFields() {
		if id == 0 || id == 1 {
			continue // the MTI, the bitmap
		}
		if iso.IsSensitive(id) {
			fs[id] = ""
			continue
		}
		fs[id] = fieldString(m, id)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.seen) >= maxSeen {
		d.seen = slices.Delete(d.seen, 0, len(d.seen)-maxSeen+1)
	}
	d.seen = append(d.seen, ReversalSeen{MTI: mti, Fields: fs})
}

// answer records one attempt of the reversal identified by key and reports
// whether it is to be answered (attempt number > drop), and whether this is
// the first answered attempt of that reversal.
func (d *reversalDrops) answer(key string, drop int) (answer, first bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.attempts == nil {
		d.attempts = make(map[string]int)
	}
	d.attempts[key]++
	n := d.attempts[key]
	return n > drop, n == drop+1
}

// reversalKey identifies a reversal across retransmissions: field 90 (the
// original data elements) when present, else STAN and RRN.
func reversalKey(original, stan, rrn string) string {
	if original != "" {
		return "90:" + original
	}
	return "11:" + stan + "/37:" + rrn
}
