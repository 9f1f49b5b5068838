package switchd

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cardswitch/cardswitch/switch/metrics"
)

// IPv4 counts by address (also when mapped into IPv6); IPv6 by its /64.
func TestIPSourceGroupsIPv6By64(t *testing.T) {
	tcp := func(s string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(s), Port: 1234} }
	assert.Equal(t, "192.0.2.7", ipSource(tcp("192.0.2.7")).String())
	assert.Equal(t, "192.0.2.7", ipSource(tcp("::ffff:192.0.2.7")).String())
	assert.Equal(t, "2001:db8:1:2::", ipSource(tcp("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).String())
	assert.Equal(t, ipSource(tcp("2001:db8:1:2::1")), ipSource(tcp("2001:db8:1:2:ffff::9")))
	assert.NotEqual(t, ipSource(tcp("2001:db8:1:2::1")), ipSource(tcp("2001:db8:1:3::1")))
	assert.Equal(t, "fe80::", ipSource(&net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"}).String())
}

// The caps, the pending count's move on the first frame, and an entry
// gone with its address's last connection.
func TestPerIPCaps(t *testing.T) {
	var p perIP
	a := ipSource(&net.TCPAddr{IP: net.ParseIP("192.0.2.1")})
	b := ipSource(&net.TCPAddr{IP: net.ParseIP("192.0.2.2")})
	assert.Empty(t, p.take(a, 3, 2))
	assert.Empty(t, p.take(a, 3, 2))
	assert.Equal(t, metrics.ReasonMaxPendingPerIP, p.take(a, 3, 2))
	assert.Empty(t, p.take(b, 3, 2), "another address has its own count")
	p.sent(a)
	assert.Empty(t, p.take(a, 3, 2))
	assert.Equal(t, metrics.ReasonMaxConnectionsPerIP, p.take(a, 3, 2))
	p.release(a, false)
	p.release(a, true)
	p.release(a, true)
	p.release(b, true)
	assert.Zero(t, p.sources())
}
