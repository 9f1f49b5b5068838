package routing

import (
	"errors"
	"strings"
)

// MaxBINDigits is the longest BIN prefix or range bound accepted.
const MaxBINDigits = 11

// binRange is a parsed route bin: the inclusive range [lo, hi] over the first
// n digits of a PAN. A prefix p of length n is [p, p].
type binRange struct {
	n      int
	lo, hi uint64
}

func (r binRange) width() uint64 { return r.hi - r.lo + 1 }

func (r binRange) covers(n int, v uint64) bool { return r.n == n && r.lo <= v && v <= r.hi }

// parseBIN parses "DIGITS" or "LOW-HIGH"; the error text is the message of
// a Problem that already names the rule.
func parseBIN(s string) (binRange, error) {
	if s == "" {
		return binRange{}, errors.New("empty bin")
	}
	low, high, isRange := strings.Cut(s, "-")
	if !isRange {
		v, err := parseDigits(s)
		if err != nil {
			return binRange{}, err
		}
		return binRange{n: len(s), lo: v, hi: v}, nil
	}
	if low == "" || high == "" {
		return binRange{}, errors.New(`malformed range: want "LOW-HIGH"`)
	}
	lo, err := parseDigits(low)
	if err != nil {
		return binRange{}, errors.New("malformed range: low bound: " + err.Error())
	}
	hi, err := parseDigits(high)
	if err != nil {
		return binRange{}, errors.New("malformed range: high bound: " + err.Error())
	}
	if len(low) != len(high) {
		return binRange{}, errors.New("malformed range: bounds must have the same number of digits")
	}
	if lo > hi {
		return binRange{}, errors.New("inverted range: low bound is above high bound")
	}
	return binRange{n: len(low), lo: lo, hi: hi}, nil
}

func parseDigits(s string) (uint64, error) {
	if len(s) > MaxBINDigits {
		return 0, errors.New("longer than 11 digits")
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errors.New("not all digits")
		}
		v = v*10 + uint64(c-'0')
	}
	return v, nil
}
