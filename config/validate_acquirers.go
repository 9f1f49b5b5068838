package config

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
)

// maxInstitutionIDDigits is the length limit of field 32 (LLVAR n..11).
const maxInstitutionIDDigits = 11

func acquirerWhere(i int, name string) string {
	if name == "" {
		return fmt.Sprintf("acquirers[%d]", i)
	}
	return fmt.Sprintf("acquirers[%d] (%s)", i, name)
}

func (v *validator) acquirers(raw []rawAcquirer, tls *ServerTLS) []Acquirer {
	acqs := make([]Acquirer, len(raw))
	names, ids, subjects := make(map[string]int), make(map[string]int), make(map[string]int)
	for i, r := range raw {
		where := acquirerWhere(i, r.Name)
		v.unique(where, "name", r.Name, names, i)
		a := Acquirer{
			Name:           r.Name,
			InstitutionID:  v.institutionID(where, r.InstitutionID),
			AllowCIDRs:     v.cidrs(where, r.AllowCIDRs),
			CertSubject:    r.CertSubject,
			MaxConnections: int(v.integer(where, "max_connections", r.MaxConnections, 0)),
			MaxInFlight:    int(v.integer(where, "max_in_flight", r.MaxInFlight, 0)),
			Rate:           v.rate(where, r.Rate),
			Burst:          int(v.integer(where, "burst", r.Burst, 0)),
		}
		if a.Burst == 0 {
			a.Burst = DefaultBurst(a.Rate)
		}
		if a.InstitutionID != "" && isDigits(a.InstitutionID) {
			v.unique(where, "institution_id", a.InstitutionID, ids, i)
		}
		if a.CertSubject != "" {
			v.unique(where, "cert_subject", a.CertSubject, subjects, i)
			if tls == nil || tls.ClientCAFile == "" {
				v.add(where, "cert_subject needs listen.tls.client_ca_file (client certificates)")
			}
		}
		if len(r.AllowCIDRs) == 0 && a.CertSubject == "" {
			v.add(where, "set allow_cidrs or cert_subject (or both) to identify it")
		}
		acqs[i] = a
	}
	return acqs
}

// unique reports an empty or repeated value of key; seen maps values to
// the first acquirer using them.
func (v *validator) unique(where, key, value string, seen map[string]int, i int) {
	if value == "" {
		v.add(where, "%s is required", key)
		return
	}
	if first, dup := seen[value]; dup {
		v.add(where, "duplicate %s, first used by acquirers[%d]", key, first)
		return
	}
	seen[value] = i
}

func (v *validator) institutionID(where string, raw any) string {
	switch id := raw.(type) {
	case nil:
		v.add(where, "institution_id is required")
		return ""
	case string:
		if id == "" {
			v.add(where, "institution_id is required")
		} else if !isDigits(id) || len(id) > maxInstitutionIDDigits {
			v.add(where, "institution_id %q: must be 1..%d digits", id, maxInstitutionIDDigits)
		}
		return id
	default:
		s := fmt.Sprint(id)
		v.add(where, "institution_id must be quoted (institution_id: \"%s\") so that leading zeros are kept", s)
		return s
	}
}

func (v *validator) cidrs(where string, raw []string) []netip.Prefix {
	var prefixes []netip.Prefix
	for j, s := range raw {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			v.add(where, "allow_cidrs[%d] %q: invalid CIDR, want e.g. 10.0.0.0/8", j, s)
			continue
		}
		// Masked so that 10.1.2.3/8 and 10.0.0.0/8 compare equal in Diff.
		prefixes = append(prefixes, p.Masked())
	}
	return prefixes
}

func (v *validator) rate(where, s string) float64 {
	if s == "" {
		return 0
	}
	r, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(r) || math.IsInf(r, 0):
		v.add(where, "rate %q: not a number", s)
		return 0
	case r < 0:
		v.add(where, "rate %q: must not be negative", s)
		return 0
	}
	return r
}
