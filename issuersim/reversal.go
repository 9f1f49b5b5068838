package issuersim

import "sync"

// reversalDrops counts the attempts of each distinct reversal so that the
// first ReversalDrop of them go unanswered. Keys are kept for the
// simulator's lifetime: it is a test tool, and a key is a few dozen bytes.
type reversalDrops struct {
	mu       sync.Mutex
	attempts map[string]int
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
