package issuersim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
)

// BenchmarkSimRoundTrip measures one connection's sequential
// request/response cycle: client pack and frame, simulator unpack, decide,
// pack and write, client read and unpack.
func BenchmarkSimRoundTrip(b *testing.B) {
	s := startSim(b, config.Simulator{DeclineAbove: 100000}, nil)
	c := dialSim(b, s.Addr())
	req, err := newMsg(b, "0100", authFields("4111111111111111", "1000", "000001")).Pack()
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.sendRaw(req)
		c.recv()
	}
}
