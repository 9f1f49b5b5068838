package metrics_test

import (
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/switch/metrics"
)

// BenchmarkRequest is the per-request cost on the hot path after warm-up;
// it must report 0 allocs/op.
func BenchmarkRequest(b *testing.B) {
	m := metrics.New()
	codes := []string{"00", "05", "51", "91"}
	for _, c := range codes {
		m.Request("0100", "bank-a", c, time.Millisecond)
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		m.Request("0100", "bank-a", codes[i&3], 420*time.Microsecond)
		i++
	}
}

// BenchmarkRequestParallel shows the cost under contention from many
// acquirer connections.
func BenchmarkRequestParallel(b *testing.B) {
	m := metrics.New()
	m.Request("0100", "bank-a", "00", time.Millisecond)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Request("0100", "bank-a", "00", 420*time.Microsecond)
		}
	})
}
