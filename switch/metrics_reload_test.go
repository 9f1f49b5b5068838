package switchd_test

import (
	"context"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/stretchr/testify/require"
)

// An issuer removed by a reload leaves /metrics once drained: a stale
// cardswitch_issuer_link_up 0 would page someone for a bank no longer
// configured.
func TestRemovedIssuerLeavesMetrics(t *testing.T) {
	a := startSim(t, config.Simulator{})
	b := startSim(t, config.Simulator{})
	both := "admin: {address: 127.0.0.1:0}\nissuers:\n" + issuerYAML("bank", "5s", a.Addr()) +
		issuerYAML("gone", "5s", b.Addr()) + "routes:\n  - {bin: \"4\", issuer: bank}\n  - {bin: \"5\", issuer: gone}\n"
	sw := opsRun(t, opsLoad(t, both))
	opsWaitUp(t, sw, "gone")
	gone := map[string]string{"issuer": "gone", "endpoint": b.Addr(), "conn": "1"}
	opsRequireMetric(t, opsScrape(t, sw), "cardswitch_issuer_link_up", gone, 1)

	_, err := sw.Apply(context.Background(), opsLoad(t, opsYAML(a.Addr())))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, sw.Await(ctx, func() bool {
		_, present := opsMetric(opsScrape(t, sw), "cardswitch_issuer_link_up", gone)
		return !present
	}), "the drained issuer's series stayed")
	opsRequireMetric(t, opsScrape(t, sw), "cardswitch_issuer_link_up",
		map[string]string{"issuer": "bank", "endpoint": a.Addr(), "conn": "1"}, 1)
}
