package routing

// MaxPANDigits is the longest PAN Lookup accepts (ISO/IEC 7812).
const MaxPANDigits = 19

// Lookup returns the issuer for pan (ASCII digits). The longest matching
// bin wins; among equal lengths the narrowest range. With no matching rule
// it returns default_issuer if set. An empty pan, one longer than 19
// digits, or one with a non-digit matches nothing, not even the default.
// Lookup does not allocate.
func (t *Table) Lookup(pan []byte) (Match, bool) {
	if t == nil || len(pan) == 0 || len(pan) > MaxPANDigits {
		return Match{}, false
	}
	// prefix[n] is the value of the first n digits.
	var prefix [MaxBINDigits + 1]uint64
	var v uint64
	for i, c := range pan {
		if c < '0' || c > '9' {
			return Match{}, false
		}
		if i < MaxBINDigits {
			v = v*10 + uint64(c-'0')
			prefix[i+1] = v
		}
	}
	for i := range t.levels {
		lv := &t.levels[i]
		if lv.n > len(pan) {
			continue
		}
		if r := lv.find(prefix[lv.n]); r >= 0 {
			return t.match(int(r)), true
		}
	}
	if t.def >= 0 {
		return Match{Issuer: t.issuers[t.def], IssuerIndex: t.def, Rule: -1}, true
	}
	return Match{}, false
}

// find returns the rule winning at v, or -1.
func (lv *level) find(v uint64) int32 {
	// Binary search for the last segment starting at or before v.
	lo, hi := 0, len(lv.starts)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if lv.starts[mid] <= v {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 || lv.ends[lo-1] < v {
		return -1
	}
	return lv.rules[lo-1]
}

func (t *Table) match(rule int) Match {
	idx := int(t.issuer[rule])
	return Match{Issuer: t.issuers[idx], IssuerIndex: idx, Rule: rule, BIN: t.bins[rule]}
}
