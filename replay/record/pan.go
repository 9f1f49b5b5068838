package record

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	mrand "math/rand/v2"
	"sync"

	"github.com/cardswitch/cardswitch/replay/trace"
)

// panMap replaces card numbers consistently within a run. It is keyed by
// a keyed hash of the PAN, with a key that lives only in this process, so
// the proxy does not keep real card numbers in memory.
type panMap struct {
	mu   sync.Mutex
	key  [32]byte
	rnd  *mrand.Rand
	byID map[[32]byte]string
	used map[string]bool // replacements handed out: two cards never merge
}

func newPANMap() *panMap {
	m := &panMap{byID: map[[32]byte]string{}, used: map[string]bool{}}
	_, _ = rand.Read(m.key[:])
	var seed [32]byte
	_, _ = rand.Read(seed[:])
	m.rnd = mrand.New(mrand.NewChaCha8(seed))
	return m
}

// replace returns the stand-in for pan (ASCII digits). It keeps the
// length, the first 6 digits and, for PANs of 13 digits or more, the last
// 4, so routing and suffix-based simulator rules give the same answer on
// replay; the digits in between are random and the result is Luhn-valid.
// It returns "" when no stand-in distinct from the real PAN and from other
// cards' stand-ins can be drawn (very short PANs, crowded BINs): the
// caller then drops the PAN rather than record it.
func (m *panMap) replace(pan string) string {
	h := hmac.New(sha256.New, m.key[:])
	h.Write([]byte(pan))
	var id [32]byte
	copy(id[:], h.Sum(nil))

	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.byID[id]; ok {
		return r
	}
	r := ""
	for range 100 {
		if c := m.candidate(pan); c != pan && !m.used[c] {
			r = c
			break
		}
	}
	m.byID[id] = r
	if r == "" {
		return ""
	}
	m.used[r] = true
	return r
}

// candidate draws one replacement for pan.
func (m *panMap) candidate(pan string) string {
	n := len(pan)
	head := min(6, n-1)
	if n < 13 {
		return trace.LuhnComplete(pan[:head], n, m.rnd)
	}
	b := []byte(pan)
	for i := head; i < n-4; i++ {
		b[i] = '0' + byte(m.rnd.IntN(10))
	}
	// Any single digit position can absorb the Luhn check: doubling is a
	// bijection on 0..9 modulo 10.
	for d := byte('0'); d <= '9'; d++ {
		b[head] = d
		if trace.LuhnValid(string(b)) {
			break
		}
	}
	return string(b)
}
