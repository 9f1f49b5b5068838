package switchd

import (
	"net"
	"net/netip"
	"sync"

	"github.com/cardswitch/cardswitch/switch/metrics"
)

// perIP counts, per source address, the open acquirer connections and
// those still pending (no complete frame yet). Connections that never send
// a frame (or stall in the TLS handshake) cost an attacker nothing but a
// socket; counting them per source keeps them from filling
// listen.max_connections for everyone. An entry exists only while its
// address has a connection open, so the map is bounded by the open
// connections, themselves capped.
type perIP struct {
	mu sync.Mutex
	m  map[netip.Addr]ipUse
}

type ipUse struct{ open, pending int }

// ipSource is the key a remote address is counted under: IPv4 (also
// IPv4-mapped IPv6) by address, IPv6 by its /64, since one host is
// commonly given a whole /64 and could otherwise pick a fresh address for
// every connection. An address that cannot be read (not TCP) counts as
// the zero Addr, one shared source.
func ipSource(a net.Addr) netip.Addr {
	var ip netip.Addr
	switch ta := a.(type) {
	case *net.TCPAddr:
		ip = ta.AddrPort().Addr()
	default:
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			ip = ap.Addr()
		}
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		ip = netip.PrefixFrom(ip, 64).Masked().Addr()
	}
	return ip
}

// take counts one new, pending connection from src unless src already has
// maxOpen open or maxPending pending; then it returns the metrics reason
// of the refusal.
func (p *perIP) take(src netip.Addr, maxOpen, maxPending int) (refused string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.m[src]
	switch {
	case u.open >= maxOpen:
		return metrics.ReasonMaxConnectionsPerIP
	case u.pending >= maxPending:
		return metrics.ReasonMaxPendingPerIP
	}
	if p.m == nil {
		p.m = make(map[netip.Addr]ipUse)
	}
	p.m[src] = ipUse{open: u.open + 1, pending: u.pending + 1}
	return ""
}

// sent moves one connection of src from pending to open only: its first
// frame arrived.
func (p *perIP) sent(src netip.Addr) {
	p.mu.Lock()
	u := p.m[src]
	u.pending--
	p.m[src] = u
	p.mu.Unlock()
}

// release forgets one closed connection of src (pending: it never
// completed a frame); the address's entry goes with its last connection.
func (p *perIP) release(src netip.Addr, pending bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.m[src]
	u.open--
	if pending {
		u.pending--
	}
	if u.open <= 0 {
		delete(p.m, src)
		return
	}
	p.m[src] = u
}

// sources is how many addresses have a connection open (tests).
func (p *perIP) sources() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}
