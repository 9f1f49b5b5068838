package issuersim

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
)

const (
	track2  = "4111111111111111=25121011234567890"
	pinData = "\x01\x23\x45\x67\x89\xab\xcd\xef"
)

func TestApproveEchoesFieldsButNotSensitiveOnes(t *testing.T) {
	var mu sync.Mutex
	var seen []Request
	s := startSim(t, config.Simulator{ApprovalCodePrefix: "AP"}, func(r Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r)
	})
	c := dialSim(t, s.Addr())

	fields := authFields("4111111111111111", "1000", "000123")
	fields[35] = track2
	fields[52] = pinData
	req := newMsg(t, "0100", fields)
	c.send(req)
	raw := c.recvRaw()
	resp := iso8583.NewMessage(iso.Spec87())
	require.NoError(t, resp.Unpack(raw))

	assert.Equal(t, "0110", str(resp, 0))
	assert.Equal(t, "00", str(resp, 39))
	assert.Len(t, str(resp, 38), 6)
	assert.Equal(t, "AP", str(resp, 38)[:2])
	for _, id := range []int{2, 3, 4, 7, 11, 37, 41} {
		assert.Equal(t, str(req, id), str(resp, id), "field %d", id)
	}
	for _, id := range iso.SensitiveFields {
		assert.Nil(t, resp.GetField(id), "field %d echoed", id)
	}
	assert.False(t, bytes.Contains(raw, []byte("=2512")), "track 2 in response")
	assert.False(t, bytes.Contains(raw, []byte("0123456789ABCDEF")), "PIN block in response")

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 1)
	assert.Equal(t, Request{
		MTI: "0100", STAN: "000123", RRN: "533117000001", MaskedPAN: "411111******1111",
		Amount: "000000001000", ProcessingCode: "000000",
	}, seen[0])
	assert.Equal(t, Stats{Connections: 1, Requests: 1, Approved: 1}, s.Stats())
}

func TestApprovalCodesDiffer(t *testing.T) {
	s := startSim(t, config.Simulator{}, nil)
	c := dialSim(t, s.Addr())
	a := c.roundTrip(newMsg(t, "0200", authFields("4111111111111111", "1", "000001")))
	b := c.roundTrip(newMsg(t, "0200", authFields("4111111111111111", "1", "000002")))
	assert.Equal(t, "0210", str(a, 0))
	assert.Regexp(t, `^\d{6}$`, str(a, 38))
	assert.NotEqual(t, str(a, 38), str(b, 38))
}

func TestDecisions(t *testing.T) {
	cfg := config.Simulator{
		DeclineAbove: 50000,
		Rules: []config.SimRule{
			{PANPrefix: "5100", Code: "05"},
			{PANSuffix: "0019", Code: "43"},
			{PANPrefix: "4000", Amount: 1234, Code: "61"},
			{PANPrefix: "4999", Code: ""}, // no code: falls through to DeclineAbove
		},
	}
	s := startSim(t, cfg, nil)
	c := dialSim(t, s.Addr())
	tests := []struct {
		name, pan, amount, code string
	}{
		{"approved", "4111111111111111", "50000", "00"},
		{"decline above", "4111111111111111", "50001", "51"},
		{"prefix rule", "5100000000000008", "100", "05"},
		{"prefix rule wins over decline above", "5100000000000008", "99999", "05"},
		{"suffix rule", "4111111111110019", "100", "43"},
		{"amount rule matches", "4000000000000002", "1234", "61"},
		{"amount rule other amount", "4000000000000002", "1235", "00"},
		{"rule without code, under limit", "4999000000000001", "100", "00"},
		{"rule without code, over limit", "4999000000000001", "60000", "51"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stan := string(rune('0'+i/10)) + string(rune('0'+i%10))
			resp := c.roundTrip(newMsg(t, "0100", authFields(tt.pan, tt.amount, "0000"+stan)))
			assert.Equal(t, tt.code, str(resp, 39))
			assert.Equal(t, "0000"+stan, str(resp, 11))
			if tt.code == "00" {
				assert.Len(t, str(resp, 38), 6)
			} else {
				assert.Nil(t, resp.GetField(38), "38 on a decline")
			}
		})
	}
}

func TestTrack2OnlyRequest(t *testing.T) {
	got := make(chan Request, 1)
	s := startSim(t, config.Simulator{Rules: []config.SimRule{{PANPrefix: "411111", PANSuffix: "1111", Code: "54"}}},
		func(r Request) { got <- r })
	c := dialSim(t, s.Addr())
	fields := authFields("", "100", "000777")
	delete(fields, 2)
	fields[35] = track2
	c.send(newMsg(t, "0100", fields))
	raw := c.recvRaw()
	resp := iso8583.NewMessage(iso.Spec87())
	require.NoError(t, resp.Unpack(raw))

	assert.Equal(t, "54", str(resp, 39))
	assert.Nil(t, resp.GetField(2))
	assert.Nil(t, resp.GetField(35))
	assert.False(t, bytes.Contains(raw, []byte("4111111111111111")))
	assert.Equal(t, "411111******1111", (<-got).MaskedPAN)
}

func TestRuleDelayAnswersLater(t *testing.T) {
	// A delay far above any scheduling stall between the two sends.
	s := startSim(t, config.Simulator{Rules: []config.SimRule{{PANSuffix: "0002", Delay: 2 * time.Second}}}, nil)
	c := dialSim(t, s.Addr())
	c.send(newMsg(t, "0100", authFields("4111111111110002", "100", "000001")))
	c.send(newMsg(t, "0100", authFields("4111111111111111", "100", "000002")))

	first, second := c.recv(), c.recv()
	assert.Equal(t, "000002", str(first, 11), "undelayed request answered first")
	assert.Equal(t, "000001", str(second, 11))
	assert.Equal(t, "00", str(second, 39))
}

func TestRuleNoAnswer(t *testing.T) {
	s := startSim(t, config.Simulator{Rules: []config.SimRule{{PANSuffix: "0003", NoAnswer: true}}}, nil)
	c := dialSim(t, s.Addr())
	c.send(newMsg(t, "0100", authFields("4111111111110003", "100", "000001")))
	resp := c.roundTrip(newMsg(t, "0100", authFields("4111111111111111", "100", "000002")))

	// Answers leave in request order, so a first answer for 000002 proves
	// that 000001 got none.
	assert.Equal(t, "000002", str(resp, 11))
	assert.Equal(t, Stats{Connections: 1, Requests: 2, Approved: 1, NoAnswer: 1}, s.Stats())
}

func TestRuleMalformed(t *testing.T) {
	for _, code := range []string{"", "05"} { // with and without field 38
		t.Run("code="+code, func(t *testing.T) {
			s := startSim(t, config.Simulator{Rules: []config.SimRule{{PANSuffix: "0004", Code: code, Malformed: true}}}, nil)
			c := dialSim(t, s.Addr())
			// Bare minimum request: 39 (2 bytes) directly follows 11 in
			// the answer, so the cut must not reach into 11.
			c.send(newMsg(t, "0100", map[int]string{2: "4111111111110004", 4: "100", 11: "000042"}))
			raw := c.recvRaw()

			err := iso8583.NewMessage(iso.Spec87()).Unpack(raw)
			require.Error(t, err)
			sc := iso8583.NewMessageScanner(iso.Spec87(), raw)
			mti, err := sc.ScanField(0)
			require.NoError(t, err)
			stan, err := sc.ScanField(11)
			require.NoError(t, err)
			mtiStr, _ := mti.String()
			stanStr, _ := stan.String()
			assert.Equal(t, "0110", mtiStr)
			assert.Equal(t, "42", stanStr) // moov Numeric drops leading zeros
			assert.Equal(t, int64(1), s.Stats().Malformed)
		})
	}
}

func TestReversalsAlwaysApproved(t *testing.T) {
	s := startSim(t, config.Simulator{Rules: []config.SimRule{{Code: "05"}}}, nil)
	c := dialSim(t, s.Addr())
	for _, tt := range []struct{ mti, want string }{{"0400", "0410"}, {"0420", "0430"}} {
		resp := c.roundTrip(newMsg(t, tt.mti, authFields("4111111111111111", "100", "000009")))
		assert.Equal(t, tt.want, str(resp, 0))
		assert.Equal(t, "00", str(resp, 39))
		assert.Equal(t, "000009", str(resp, 11))
	}
	assert.Equal(t, int64(2), s.Stats().Reversals)
}

func TestNetworkManagement(t *testing.T) {
	s := startSim(t, config.Simulator{Latency: time.Millisecond}, nil)
	c := dialSim(t, s.Addr())
	for _, code := range []string{iso.NetSignOn, iso.NetEcho, iso.NetSignOff} {
		t.Run(code, func(t *testing.T) {
			req := newMsg(t, "0800", map[int]string{7: "1125175400", 11: "000310", 70: code})
			resp := c.roundTrip(req)
			assert.Equal(t, "0810", str(resp, 0))
			assert.Equal(t, "00", str(resp, 39))
			for _, id := range []int{7, 11, 70} {
				assert.Equal(t, str(req, id), str(resp, id), "field %d", id)
			}
		})
	}
	assert.Equal(t, Stats{Connections: 1, Requests: 3, NetworkMgmt: 3}, s.Stats())
}

func TestBadFramesKeepConnection(t *testing.T) {
	s := startSim(t, config.Simulator{}, nil)
	c := dialSim(t, s.Addr())
	c.sendRaw([]byte("01"))                                 // too short for an MTI
	c.sendRaw([]byte("0100F0"))                             // truncated bitmap
	c.send(newMsg(t, "0500", map[int]string{11: "000001"})) // unsupported MTI
	resp := c.roundTrip(newMsg(t, "0100", authFields("4111111111111111", "100", "000002")))

	assert.Equal(t, "000002", str(resp, 11))
	assert.Equal(t, Stats{Connections: 1, Requests: 2, Approved: 1, Unsupported: 1, Unparseable: 2}, s.Stats())
}

func TestManyConcurrentConnections(t *testing.T) {
	const conns, perConn = 16, 50
	s := startSim(t, config.Simulator{DeclineAbove: 500}, nil)
	var wg sync.WaitGroup
	for i := range conns {
		c := dialSim(t, s.Addr())
		wg.Go(func() {
			// Pipeline every request before reading: answers are written
			// in bursts and must still come back whole and in order.
			for j := range perConn {
				c.send(newMsg(t, "0100", authFields("4111111111111111", itoa(i*100+j), itoa6(j))))
			}
			for j := range perConn {
				resp := c.recv()
				assert.Equal(t, itoa6(j), str(resp, 11))
				want := "00"
				if i*100+j > 500 {
					want = "51"
				}
				assert.Equal(t, want, str(resp, 39), "conn %d req %d", i, j)
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	assert.Equal(t, int64(conns), st.Connections)
	assert.Equal(t, int64(conns*perConn), st.Requests)
	assert.Equal(t, st.Requests, st.Approved+st.Declined)
}

func itoa(n int) string { return string(appendDigits(nil, n)) }

func itoa6(n int) string {
	b := appendDigits(nil, n)
	return string(append(bytes.Repeat([]byte("0"), 6-len(b)), b...))
}

func appendDigits(b []byte, n int) []byte {
	if n >= 10 {
		b = appendDigits(b, n/10)
	}
	return append(b, byte('0'+n%10))
}
