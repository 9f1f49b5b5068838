package acquirers

import "net/netip"

// Acquirer is one configured acquirer and its limits.
type Acquirer struct {
	// Name identifies the acquirer in logs, metrics and the journal, and
	// keys its live state in a Limiter across reloads.
	Name string
	// InstitutionID is the acquiring institution id that field 32 must
	// carry; "" disables the check.
	InstitutionID string
	// AllowCIDRs are the source addresses it may connect from. With
	// CertSubject set they narrow it further; without, they identify it.
	AllowCIDRs []netip.Prefix
	// CertSubject is the subject CN of the verified client certificate that
	// identifies it. When set, it is required: a matching address alone
	// does not identify this acquirer.
	CertSubject string
	// MaxConnections caps its open connections; 0 means unlimited.
	MaxConnections int
	// MaxInFlight caps its requests waiting for an issuer, across all its
	// connections; 0 means unlimited.
	MaxInFlight int
	// Rate is the sustained requests per second it may send; 0 means
	// unlimited.
	Rate float64
	// Burst is the token bucket size for Rate; 0 means max(1, Rate).
	Burst int

	// gen is the generation of the Registry that holds this copy (0 for
	// an Acquirer built by hand): a Limiter takes limits only from a newer
	// generation than it has, so old connections cannot undo a reload.
	gen uint64
}

// burst is the effective token bucket size.
func (a *Acquirer) burst() int {
	if a.Burst > 0 {
		return a.Burst
	}
	return max(1, int(a.Rate))
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
