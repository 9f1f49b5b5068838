package routing

import (
	"math"
	"strconv"
	"strings"
)

func (v *validator) admin(raw rawAdmin) Admin {
	if raw.Address != "" {
		if err := checkHostPort(raw.Address, false); err != nil {
			v.add("admin.address", "%q: %v", raw.Address, err)
		}
	}
	return Admin{Address: raw.Address}
}

func (v *validator) journal(raw rawJournal) Journal {
	_, def, _ := ServiceDefaults()
	j := Journal{
		Path:            raw.Path,
		DuplicateWindow: v.duration("journal.duplicate_window", "", raw.DuplicateWindow, def.DuplicateWindow, true),
		Retention:       v.duration("journal.retention", "", raw.Retention, 0, false),
		Sync:            raw.Sync,
	}
	switch j.Sync {
	case "":
		j.Sync = def.Sync
	case "normal", "full":
	default:
		v.add("journal.sync", "%q: want normal or full", raw.Sync)
	}
	if j.Retention > 0 && j.Retention < j.DuplicateWindow {
		v.add("journal.retention", "%s is shorter than duplicate_window %s: duplicates could not be detected after a restart",
			j.Retention, j.DuplicateWindow)
	}
	return j
}

func (v *validator) reversals(raw rawReversals) Reversals {
	_, _, def := ServiceDefaults()
	r := Reversals{
		RetryMin: v.duration("reversals.retry_min", "", raw.RetryMin, def.RetryMin, true),
		RetryMax: v.duration("reversals.retry_max", "", raw.RetryMax, def.RetryMax, true),
		Rate:     def.Rate,
	}
	if raw.Rate != "" {
		n, err := strconv.ParseFloat(raw.Rate, 64)
		if err != nil || n <= 0 || math.IsInf(n, 0) || math.IsNaN(n) {
			v.add("reversals.rate", "%q: must be a positive number (reversals per second per issuer)", raw.Rate)
		} else {
			r.Rate = n
		}
	}
	if r.RetryMin > r.RetryMax {
		v.add("reversals", "retry_min %s is above retry_max %s", r.RetryMin, r.RetryMax)
	}
	return r
}

// memoryUnits are the suffixes memory_limit takes, as GOMEMLIMIT does.
var memoryUnits = []struct {
	suffix string
	shift  uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}, {"", 0}}

// memoryLimit parses memory_limit: a byte count with an optional unit B,
// KiB, MiB, GiB or TiB ("1GiB", "768MiB"); 0 for no limit; "" the default.
func (v *validator) memoryLimit(s string) int64 {
	if s == "" {
		return DefaultMemoryLimit
	}
	for _, u := range memoryUnits {
		digits, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n < 0 || n > math.MaxInt64>>u.shift {
			break
		}
		return n << u.shift
	}
	v.add("memory_limit", "%q: want a byte count with an optional unit B, KiB, MiB, GiB or TiB (e.g. 1GiB), or 0 for none", s)
	return DefaultMemoryLimit
}
