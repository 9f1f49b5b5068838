package issuer

import "math/bits"

// maxSTAN is the size of the STAN space: field 11 has six digits, and 0 is
// not used.
const maxSTAN = 999_999

// stanSet hands out a link's STANs and knows which are held: by a pending
// request, or by a timed-out one remembered for its late answer. A held
// STAN is never handed out. One bit per STAN (125 KiB per link at the full
// space), so that finding a free one costs a word at a time, not a map
// lookup per STAN, even when most are held.
type stanSet struct {
	bits  []uint64 // bit s set: STAN s held; bit 0 and the bits past space are set for good
	space uint32   // STANs 1 to space
	held  int      // STANs held (not counting the bits set for good)
	last  uint32   // the STAN handed out last
}

func newSTANSet(space uint32) stanSet {
	s := stanSet{bits: make([]uint64, space/64+1), space: space}
	s.bits[0] |= 1
	for i := space + 1; i < uint32(len(s.bits))*64; i++ {
		s.bits[i/64] |= 1 << (i % 64)
	}
	return s
}

// take holds and returns the first free STAN after the last one handed
// out, going round: STANs are handed out in turn, so a STAN set free is
// handed out again only after every other free one has been. false: every
// STAN is held.
func (s *stanSet) take() (uint32, bool) {
	if s.held >= int(s.space) {
		return 0, false
	}
	i := s.last%s.space + 1
	for {
		if free := ^s.bits[i/64] >> (i % 64); free != 0 {
			st := i + uint32(bits.TrailingZeros64(free)) // #nosec G115 -- < 64
			s.bits[st/64] |= 1 << (st % 64)
			s.held++
			s.last = st
			return st, true
		}
		if i = (i/64 + 1) * 64; i > s.space {
			i = 1
		}
	}
}

// free sets a held STAN free.
func (s *stanSet) free(st uint32) {
	if st == 0 || st > s.space || s.bits[st/64]&(1<<(st%64)) == 0 {
		return
	}
	s.bits[st/64] &^= 1 << (st % 64)
	s.held--
}
