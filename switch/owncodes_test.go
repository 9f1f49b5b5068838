package switchd_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The switch answers by itself with MTI+10 and its own 39 when it must.
func TestSwitchGeneratedCodes(t *testing.T) {
	sim := startSim(t, config.Simulator{Rules: []config.SimRule{
		{PANSuffix: "0009", NoAnswer: true},
		{PANSuffix: "0096", Malformed: true},
	}})
	yaml := "issuers:\n" + issuerYAML("bank", "1s", sim.Addr()) +
		issuerYAML("dead", "5s", "127.0.0.1:1") + // nothing listens on port 1
		"routes:\n  - {bin: \"4\", issuer: bank}\n  - {bin: \"5\", issuer: dead}\n"
	sw := startSwitch(t, yaml, "bank")
	c := dial(t, sw.addr)

	cases := []struct {
		name string
		req  acqclient.Request
		code string
	}{
		{"unknown BIN", auth("6011000000000004", 100, 1), "15"},
		{"issuer without a live link", auth("5100000000000001", 100, 2), "91"},
		{"issuer does not answer in time", auth("4111111111110009", 100, 3), "91"},
		{"issuer answer unreadable", auth("4111111111110096", 100, 4), "96"},
		{"missing amount", func() acqclient.Request { r := auth("4111111111111111", 0, 5); r.Amount = -1; return r }(), "30"},
		{"unsupported message class", func() acqclient.Request { r := auth("4111111111111111", 100, 6); r.MTI = "0300"; return r }(), "30"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.req.Message()
			require.NoError(t, err)
			if tc.req.Amount < 0 {
				m.UnsetField(4)
			}
			resp, err := c.Send(m)
			require.NoError(t, err)
			want, _ := m.GetMTI()
			assert.Equal(t, want[:2]+string(want[2]+1)+want[3:], mti(t, resp))
			assert.Equal(t, tc.code, str(t, resp, 39))
			assert.Equal(t, wire(t, m, 11), wire(t, resp, 11), "STAN echoed")
			assert.Equal(t, wire(t, m, 37), wire(t, resp, 37), "RRN echoed")
		})
	}
	st := sw.Stats()
	assert.EqualValues(t, 1, st.Declined15)
	assert.EqualValues(t, 2, st.Declined91)
	assert.EqualValues(t, 1, st.Declined96)
	assert.EqualValues(t, 2, st.Declined30)
}

// A message that frames but does not parse gets 30 with what could be
// read echoed; the connection stays usable.
func TestUnparseableMessageGets30(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	sw := startSwitch(t, "issuers:\n"+issuerYAML("bank", "5s", sim.Addr())+"routes:\n  - {bin: \"4\", issuer: bank}\n", "bank")
	c := dialRaw(t, sw.addr)
	good := pack(t, auth("4111111111111111", 100, 77))

	bad := append([]byte(nil), good...)
	// The amount (field 4, 12 digits) follows MTI, bitmap, 2 (LL+16) and 3.
	amount := 4 + 16 + 2 + 16 + 6
	copy(bad[amount:], "12AB")
	c.write(t, bad)
	resp := c.read(t)
	assert.Equal(t, "0110", mti(t, resp))
	assert.Equal(t, "30", str(t, resp, 39))
	assert.Equal(t, "77", str(t, resp, 11))

	c.write(t, good[:len(good)-5]) // truncated: a field runs past the frame
	assert.Equal(t, "30", str(t, c.read(t), 39))

	c.write(t, good)
	assert.Equal(t, "00", str(t, c.read(t), 39), "connection still serves after bad messages")
}

// A frame without a readable MTI cannot be answered: it is counted and
// the connection stays open.
func TestFrameWithoutMTIIsCountedAndConnectionStays(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	sw := startSwitch(t, "issuers:\n"+issuerYAML("bank", "5s", sim.Addr())+"routes:\n  - {bin: \"4\", issuer: bank}\n", "bank")
	c := dialRaw(t, sw.addr)
	c.write(t, []byte("AB"))
	c.write(t, []byte("X1Y2garbage"))
	c.write(t, []byte{})
	c.write(t, pack(t, auth("4111111111111111", 100, 1)))
	assert.Equal(t, "00", str(t, c.read(t), 39))
	assert.EqualValues(t, 3, sw.Stats().Unreadable)
}

// A length header above the maximum message size closes the connection.
func TestOversizedFrameClosesConnection(t *testing.T) {
	sw := startSwitch(t, "listen: {max_message_size: 1024}\nissuers:\n"+issuerYAML("bank", "5s", "127.0.0.1:1")+
		"routes:\n  - {bin: \"4\", issuer: bank}\n")
	c := dialRaw(t, sw.addr)
	var hdr [2]byte
	binary.BigEndian.PutUint16(hdr[:], 1025)
	_, err := c.Write(hdr[:])
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = c.Read(make([]byte, 1))
	assert.True(t, errors.Is(err, io.EOF), "want the switch to close the connection, got %v", err)
	assert.EqualValues(t, 1, sw.Stats().Oversized)
}

// An issuer that goes away gets 91 at once; when it is back, traffic flows.
func TestIssuerDownThenBackUp(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	addr := sim.Addr()
	sw := startSwitch(t, "issuers:\n"+issuerYAML("bank", "5s", addr)+"routes:\n  - {bin: \"4\", issuer: bank}\n", "bank")
	c := dial(t, sw.addr)
	assert.Equal(t, "00", str(t, send(t, c, auth("4111111111111111", 100, 1)), 39))

	require.NoError(t, sim.Close())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, sw.WaitIssuer(ctx, "bank", none))
	assert.Equal(t, "91", str(t, send(t, c, auth("4111111111111111", 100, 2)), 39))

	startSim(t, config.Simulator{Listen: addr})
	require.NoError(t, sw.WaitIssuer(ctx, "bank", atLeast(1)))
	assert.Equal(t, "00", str(t, send(t, c, auth("4111111111111111", 100, 3)), 39))
}

// Every answer the switch builds itself is counted once under its code,
// 58, 65 and 94 included (Stats has fields for 15, 30, 91 and 96 only);
// an issuer's answer is not the switch's, whatever its code.
func TestEveryOwnCodeCounted(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	sw := startSwitch(t, "acquirers:\n  - {name: a, institution_id: \"123456\", allow_cidrs: [127.0.0.0/8], rate: 0.01, burst: 3}\n"+
		"journal: {path: "+journalPath(t)+"}\n"+bankYAML(sim.Addr()), "bank")
	c := dialRaw(t, sw.addr)
	var codes []string
	for _, req := range []struct {
		req     acqclient.Request
		field32 string
	}{
		{auth("4111111111111111", 100, 1), "123456"}, // the issuer's 00
		{auth("4111111111111111", 100, 1), "123456"}, // a duplicate: 94
		{auth("4111111111111111", 100, 2), "999999"}, // not this acquirer's institution: 58
		{auth("4111111111111111", 100, 3), "123456"}, // the third of the burst: the issuer's 00
		{auth("4111111111111111", 100, 4), "123456"}, // over the rate: 65
	} {
		c.write(t, packAcq(t, req.req, req.field32))
		_, code := readCode(t, c)
		codes = append(codes, code)
	}
	require.Equal(t, []string{"00", "94", "58", "00", "65"}, codes)
	for code, want := range map[string]int64{"00": 0, "94": 1, "58": 1, "65": 1, "91": 0, "51": 0} {
		assert.Equal(t, want, sw.OwnAnswers(code), "code %s", code)
	}
}
