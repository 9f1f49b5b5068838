package acquirers

import (
	"net/netip"
	"sync/atomic"

	"github.com/cardswitch/cardswitch/config"
)

// generations numbers registries in creation order, from 1.
var generations atomic.Uint64

// Registry is an immutable set of acquirers, built once per configuration.
// Use the *Acquirer values it returns with a Limiter: hand-built ones work,
// but only the first one seen for a name sets that name's limits.
type Registry struct {
	list      []Acquirer
	byName    map[string]*Acquirer
	bySubject map[string]*Acquirer
}

// NewRegistry copies list into a Registry. Its acquirers are newer than
// those of any Registry made before, which is how a Limiter knows which
// limits are current. Names and certificate subjects are expected to be
// unique (config validation checks this); on a duplicate the first wins.
func NewRegistry(list []config.Acquirer) *Registry {
	r := &Registry{list: make([]Acquirer, len(list)), byName: map[string]*Acquirer{}, bySubject: map[string]*Acquirer{}}
	gen := generations.Add(1)
	for i, ra := range list {
		a := Acquirer{Acquirer: ra, gen: gen}
		a.AllowCIDRs = append([]netip.Prefix(nil), ra.AllowCIDRs...)
		r.list[i] = a
		if _, dup := r.byName[a.Name]; !dup {
			r.byName[a.Name] = &r.list[i]
		}
		if a.CertSubject != "" {
			if _, dup := r.bySubject[a.CertSubject]; !dup {
				r.bySubject[a.CertSubject] = &r.list[i]
			}
		}
	}
	return r
}

// Enabled reports whether any acquirer is configured. When not, anyone may
// connect, Identify is not to be consulted and field 32 is not checked.
func (r *Registry) Enabled() bool { return r != nil && len(r.list) > 0 }

// Len is the number of acquirers.
func (r *Registry) Len() int {
	if r == nil {
		return 0
	}
	return len(r.list)
}

// ByName returns the acquirer called name, for example to re-resolve a
// connection's acquirer after a reload.
func (r *Registry) ByName(name string) (*Acquirer, bool) {
	if r == nil {
		return nil, false
	}
	a, ok := r.byName[name]
	return a, ok
}

// Identify names the acquirer behind a connection from remote whose
// verified client certificate has subject CN certSubject ("" without one).
//
//   - A certificate subject that matches an acquirer identifies it,
//     provided remote is within its AllowCIDRs when it has any.
//   - Otherwise the first acquirer without a CertSubject whose AllowCIDRs
//     contain remote is it: an acquirer with a CertSubject is never
//     identified by address alone.
//
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) and zones are normalized
// first, so 127.0.0.0/8 matches however the listener reports the peer.
func (r *Registry) Identify(remote netip.Addr, certSubject string) (*Acquirer, bool) {
	if r == nil {
		return nil, false
	}
	remote = remote.Unmap().WithZone("")
	if certSubject != "" {
		if a, ok := r.bySubject[certSubject]; ok {
			if len(a.AllowCIDRs) == 0 || a.allows(remote) {
				return a, true
			}
			return nil, false
		}
	}
	for i := range r.list {
		a := &r.list[i]
		if a.CertSubject == "" && a.allows(remote) {
			return a, true
		}
	}
	return nil, false
}
