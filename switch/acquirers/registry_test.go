package acquirers_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/switch/acquirers"
)

func prefixes(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

func testRegistry() *acquirers.Registry {
	return acquirers.NewRegistry([]config.Acquirer{
		{Name: "by-net", AllowCIDRs: prefixes("10.1.0.0/16", "2001:db8::/32")},
		{Name: "by-net-overlap", AllowCIDRs: prefixes("10.0.0.0/8")},
		{Name: "by-cert", CertSubject: "acq-cert", AllowCIDRs: prefixes("10.0.0.0/8")},
		{Name: "cert-anywhere", CertSubject: "acq-any"},
		{Name: "loopback", AllowCIDRs: prefixes("127.0.0.0/8")},
	})
}

func TestIdentify(t *testing.T) {
	r := testRegistry()
	tests := []struct {
		name    string
		remote  string
		subject string
		want    string // "" when not identified
	}{
		{"first CIDR match wins", "10.1.2.3", "", "by-net"},
		{"second CIDR", "10.2.0.1", "", "by-net-overlap"},
		{"IPv6 CIDR", "2001:db8::1", "", "by-net"},
		{"IPv4-mapped IPv6", "::ffff:127.0.0.1", "", "loopback"},
		{"no match", "192.0.2.1", "", ""},
		{"subject wins over an earlier CIDR match", "10.1.2.3", "acq-cert", "by-cert"},
		{"subject outside its CIDRs", "192.0.2.1", "acq-cert", ""},
		{"subject without CIDRs, any address", "192.0.2.1", "acq-any", "cert-anywhere"},
		{"unknown subject falls back to address", "127.0.0.1", "someone", "loopback"},
		{"address of a cert acquirer is not enough", "192.0.2.1", "", ""},
		{"zone ignored", "fe80::1%eth0", "acq-any", "cert-anywhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := r.Identify(netip.MustParseAddr(tt.remote), tt.subject)
			if tt.want == "" {
				assert.False(t, ok)
				assert.Nil(t, a)
				return
			}
			assert.True(t, ok)
			if assert.NotNil(t, a) {
				assert.Equal(t, tt.want, a.Name)
			}
		})
	}
}

// A cert-identified acquirer must not be reachable by address alone, even
// when it is the only one whose CIDRs match.
func TestIdentifyCertRequired(t *testing.T) {
	r := acquirers.NewRegistry([]config.Acquirer{
		{Name: "acq", CertSubject: "acq", AllowCIDRs: prefixes("127.0.0.0/8")},
	})
	_, ok := r.Identify(netip.MustParseAddr("127.0.0.1"), "")
	assert.False(t, ok)
	_, ok = r.Identify(netip.MustParseAddr("127.0.0.1"), "other")
	assert.False(t, ok)
	a, ok := r.Identify(netip.MustParseAddr("127.0.0.1"), "acq")
	assert.True(t, ok)
	assert.Equal(t, "acq", a.Name)
}

func TestByName(t *testing.T) {
	r := testRegistry()
	a, ok := r.ByName("loopback")
	assert.True(t, ok)
	assert.Equal(t, "loopback", a.Name)
	_, ok = r.ByName("nobody")
	assert.False(t, ok)
	var nilReg *acquirers.Registry
	_, ok = nilReg.ByName("loopback")
	assert.False(t, ok)
}

func TestEnabled(t *testing.T) {
	var nilReg *acquirers.Registry
	assert.False(t, nilReg.Enabled())
	assert.False(t, acquirers.NewRegistry(nil).Enabled())
	assert.True(t, testRegistry().Enabled())
	assert.Equal(t, 5, testRegistry().Len())
	_, ok := nilReg.Identify(netip.MustParseAddr("127.0.0.1"), "")
	assert.False(t, ok)
}

func TestRegistryCopiesInput(t *testing.T) {
	list := []config.Acquirer{{Name: "a", AllowCIDRs: prefixes("127.0.0.0/8")}}
	r := acquirers.NewRegistry(list)
	list[0].Name = "changed"
	list[0].AllowCIDRs[0] = netip.MustParsePrefix("192.0.2.0/24")
	a, ok := r.Identify(netip.MustParseAddr("127.0.0.1"), "")
	assert.True(t, ok)
	assert.Equal(t, "a", a.Name)
}

func TestCheckInstitution(t *testing.T) {
	acq := &acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", InstitutionID: "123456"}}
	tests := []struct {
		name    string
		a       *acquirers.Acquirer
		field32 []byte
		want    bool
	}{
		{"match", acq, []byte("123456"), true},
		{"different", acq, []byte("654321"), false},
		{"prefix only", acq, []byte("12345"), false},
		{"longer", acq, []byte("1234567"), false},
		{"missing field", acq, nil, false},
		{"no registry", nil, []byte("anything"), true},
		{"no institution configured", &acquirers.Acquirer{Acquirer: config.Acquirer{Name: "b"}}, []byte("1"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, acquirers.CheckInstitution(tt.a, tt.field32))
		})
	}
	if !raceEnabled {
		f := []byte("123456")
		assert.Zero(t, testing.AllocsPerRun(100, func() { acquirers.CheckInstitution(acq, f) }))
	}
}
