package replay

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkReplayEcho is the generator's cost per request, send and
// receive path included, against the in-process echo server (whose own
// cost — one frame read and written, no allocation — is included). Run
// `go run ./bench` for CPU-µs of the generator alone.
func BenchmarkReplayEcho(b *testing.B) {
	e := startEcho(b)
	in := msgs(b, 100)
	b.ReportAllocs()
	b.ResetTimer()
	rep, err := Run(context.Background(), Options{Target: e.Addr(), Connections: 4, Concurrency: 256, Count: b.N}, in)
	require.NoError(b, err)
	require.EqualValues(b, b.N, rep.Answered)
	b.ReportMetric(rep.ThroughputPerS, "req/s")
}
