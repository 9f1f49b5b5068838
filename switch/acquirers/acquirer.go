package acquirers

import (
	"net/netip"

	"github.com/cardswitch/cardswitch/config"
)

// Acquirer is one configured acquirer (config.Acquirer: name,
// institution id, allowed CIDRs, certificate subject and limits) as held by
// a Registry.
type Acquirer struct {
	config.Acquirer

	// gen is the generation of the Registry that holds this copy (0 for
	// an Acquirer built by hand): a Limiter takes limits only from a newer
	// generation than it has, so old connections cannot undo a reload.
	gen uint64
}

// burst is the effective token bucket size: a config's Burst (config
// fills in its default), or for an Acquirer built by hand the same default.
func (a *Acquirer) burst() int {
	if a.Burst > 0 {
		return a.Burst
	}
	return config.DefaultBurst(a.Rate)
}

// allows reports whether addr is in AllowCIDRs.
func (a *Acquirer) allows(addr netip.Addr) bool {
	for _, p := range a.AllowCIDRs {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// CheckInstitution reports whether field32 (the value of field 32, without
// its length prefix) is a's institution id. A nil acquirer (no registry
// configured) or one without an InstitutionID accepts anything. It does
// not allocate.
func CheckInstitution(a *Acquirer, field32 []byte) bool {
	if a == nil || a.InstitutionID == "" {
		return true
	}
	return string(field32) == a.InstitutionID
}
