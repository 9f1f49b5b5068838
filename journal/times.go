package journal

import (
	"math"
	"time"
)

// Times are stored as INTEGER unix nanoseconds.

// fromNanos returns stored times in UTC.
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// sinceNanos maps the zero time (UnixNano is undefined for it) to "all".
func sinceNanos(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}
