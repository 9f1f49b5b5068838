package switchd_test

import (
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A link signs on (0800/001) before carrying traffic and echoes (0800/301)
// when idle.
func TestIssuerLinkSignOnAndIdleEcho(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	netmgmt := make(chan string, 16)
	sim.OnRequest(func(r issuersim.Request) {
		if r.MTI == "0800" {
			select {
			case netmgmt <- r.NetworkCode:
			default:
			}
		}
	})
	startSwitch(t, `issuers:
  - name: bank
    endpoints: [`+sim.Addr()+`]
    echo_interval: 100ms
routes:
  - {bin: "4", issuer: bank}
`, "bank")
	next := func() string {
		select {
		case c := <-netmgmt:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("no network management message")
			return ""
		}
	}
	require.Equal(t, "001", next(), "sign-on first")
	assert.Equal(t, "301", next(), "echo on an idle link")
	assert.Equal(t, "301", next(), "and again while idle")
}
