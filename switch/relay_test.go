package switchd_test

import (
	"testing"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// threeIssuers runs simulators whose approval codes start with A, B and C,
// so each answer tells which issuer produced it.
func threeIssuers(t *testing.T, routes string) *running {
	a := startSim(t, config.Simulator{Name: "a", ApprovalCodePrefix: "A"})
	b := startSim(t, config.Simulator{Name: "b", ApprovalCodePrefix: "B"})
	c := startSim(t, config.Simulator{Name: "c", ApprovalCodePrefix: "C"})
	yaml := "issuers:\n" + issuerYAML("bank-a", "5s", a.Addr()) + issuerYAML("bank-b", "5s", b.Addr()) +
		issuerYAML("bank-c", "5s", c.Addr()) + "routes:\n" + routes
	return startSwitch(t, yaml, "bank-a", "bank-b", "bank-c")
}

func TestRoutingPrefixRangeLongestMatch(t *testing.T) {
	sw := threeIssuers(t, `
  - {bin: "4", issuer: bank-a}
  - {bin: "411111-411199", issuer: bank-b}
  - {bin: "4111119", issuer: bank-c}
  - {bin: "51-55", issuer: bank-b}
  - {bin: "520000-529999", issuer: bank-a}
  - {bin: "521000-521999", issuer: bank-c}
  - {bin: "2221-2720", issuer: bank-c}
`)
	c := dial(t, sw.addr)
	cases := []struct{ pan, issuer string }{
		{"4000000000000002", "A"}, // prefix 4
		{"4111111111111111", "B"}, // 6-digit range beats 1-digit prefix
		{"4111119999999999", "C"}, // 7-digit prefix beats 6-digit range
		{"4112000000000000", "A"}, // just outside the range
		{"5100000000000000", "B"}, // 2-digit range, lower bound
		{"5599999999999999", "B"}, // upper bound
		{"5200000000000007", "A"}, // longer range wins
		{"5215550000000000", "C"}, // equal length: the narrower range wins
		{"2500000000000001", "C"},
	}
	for i, tc := range cases {
		t.Run(tc.pan, func(t *testing.T) {
			resp := send(t, c, auth(tc.pan, 100, i+1))
			require.Equal(t, "00", str(t, resp, 39))
			assert.Equal(t, tc.issuer, str(t, resp, 38)[:1], "answered by the wrong issuer")
		})
	}
	resp := send(t, c, auth("6011000000000004", 100, 99))
	assert.Equal(t, "15", str(t, resp, 39), "no route: 15")
	assert.Equal(t, "0110", mti(t, resp))
}

func TestDefaultIssuer(t *testing.T) {
	a := startSim(t, config.Simulator{ApprovalCodePrefix: "A"})
	sw := startSwitch(t, "issuers:\n"+issuerYAML("bank-a", "5s", a.Addr())+
		"routes:\n  - {bin: \"4\", issuer: bank-a}\ndefault_issuer: bank-a\n", "bank-a")
	resp := send(t, dial(t, sw.addr), auth("6011000000000004", 100, 1))
	assert.Equal(t, "00", str(t, resp, 39))
}

func TestTrack2Routing(t *testing.T) {
	sw := threeIssuers(t, "  - {bin: \"4\", issuer: bank-a}\n  - {bin: \"4111\", issuer: bank-b}\n")
	c := dial(t, sw.addr)
	r := auth("", 100, 7)
	r.Track2 = "4111111111111111=25121010000012300000"
	resp := send(t, c, r)
	require.Equal(t, "00", str(t, resp, 39))
	assert.Equal(t, "B", str(t, resp, 38)[:1])
	assert.False(t, resp.Bitmap().IsSet(35), "track 2 must never come back")
}

func TestRelayKeepsAcquirerFieldsAndIssuerAnswer(t *testing.T) {
	sim := startSim(t, config.Simulator{ApprovalCodePrefix: "X", DeclineAbove: 5000,
		Rules: []config.SimRule{{PANSuffix: "0005", Code: "05"}}})
	seen := make(chan issuersim.Request, 10)
	sim.OnRequest(func(r issuersim.Request) {
		if r.MTI != "0800" {
			seen <- r
		}
	})
	sw := startSwitch(t, "issuers:\n"+issuerYAML("bank", "5s", sim.Addr())+
		"routes:\n  - {bin: \"4\", issuer: bank}\n", "bank")
	c := dial(t, sw.addr)

	req := auth("4111111111111111", 1234, 424242)
	req.RRN, req.Terminal = "123456789012", "TERMABCD"
	resp := send(t, c, req)
	assert.Equal(t, "0110", mti(t, resp))
	assert.Equal(t, "00", str(t, resp, 39))
	assert.Len(t, str(t, resp, 38), 6)
	assert.Equal(t, "X", str(t, resp, 38)[:1])
	m, _ := req.Message()
	for _, id := range []int{2, 3, 4, 7, 11, 12, 13, 37, 41, 42, 49} {
		assert.Equal(t, wire(t, m, id), wire(t, resp, id), "field %d not echoed as sent", id)
	}
	got := <-seen
	assert.NotEqual(t, "424242", got.STAN, "the issuer sees the switch's own STAN")

	for _, tc := range []struct {
		pan    string
		amount int64
		code   string
	}{{"4111111111110005", 100, "05"}, {"4111111111111111", 9999, "51"}} {
		resp := send(t, c, auth(tc.pan, tc.amount, 5))
		assert.Equal(t, tc.code, str(t, resp, 39))
		assert.False(t, resp.Bitmap().IsSet(38), "no approval code on a decline")
	}
}

func TestFinancialAndReversalMTIs(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	sw := startSwitch(t, "issuers:\n"+issuerYAML("bank", "5s", sim.Addr())+
		"routes:\n  - {bin: \"4\", issuer: bank}\n", "bank")
	c := dial(t, sw.addr)
	for i, tc := range []struct{ req, resp string }{{"0200", "0210"}, {"0400", "0410"}, {"0420", "0430"}} {
		r := auth("4111111111111111", 100, 100+i)
		r.MTI = tc.req
		resp := send(t, c, r)
		assert.Equal(t, tc.resp, mti(t, resp))
		assert.Equal(t, "00", str(t, resp, 39))
	}
}

func TestAcquirerNetworkManagement(t *testing.T) {
	sw := startSwitch(t, "issuers:\n"+issuerYAML("bank", "5s", "127.0.0.1:1")+"routes:\n  - {bin: \"4\", issuer: bank}\n")
	c := dial(t, sw.addr)
	for i, code := range []string{"001", "301", "002"} {
		resp := send(t, c, acqclient.Request{MTI: "0800", STAN: i + 1, NetworkCode: code})
		assert.Equal(t, "0810", mti(t, resp))
		assert.Equal(t, "00", str(t, resp, 39))
		assert.Equal(t, code, wire(t, resp, 70))
	}
	assert.EqualValues(t, 3, sw.Stats().NetMgmt)
}
