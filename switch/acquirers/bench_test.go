package acquirers_test

import (
	"testing"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/switch/acquirers"
)

// BenchmarkBeginEnd is the per-request cost of the limits; 0 allocs/op.
func BenchmarkBeginEnd(b *testing.B) {
	l := acquirers.NewLimiter()
	a := &acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", MaxInFlight: 1 << 20, Rate: 1e12, Burst: 1 << 20}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, _ := l.Begin(a); ok {
				l.End(a)
			}
		}
	})
}
