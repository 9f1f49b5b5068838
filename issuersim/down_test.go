package issuersim

import (
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SetDown closes the links and refuses new ones on the same address;
// SetDown(false) answers again there. Advices (0120, 0121) are
// acknowledged 0130.
func TestDownAndUp(t *testing.T) {
	s := startSim(t, config.Simulator{}, nil)
	echo := func() map[int]string { return map[int]string{7: "1125175400", 11: "000310", 70: iso.NetEcho} }
	c := dialSim(t, s.Addr())
	assert.Equal(t, "0810", str(c.roundTrip(newMsg(t, "0800", echo())), 0))

	s.SetDown(true)
	require.NoError(t, c.nc.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err := c.fr.Next()
	require.Error(t, err, "its link is closed")
	d := dialSim(t, s.Addr()) // accepted by the kernel, then closed
	require.NoError(t, d.nc.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = d.fr.Next()
	require.Error(t, err, "a new link is closed")

	s.SetDown(false)
	u := dialSim(t, s.Addr())
	assert.Equal(t, "0810", str(u.roundTrip(newMsg(t, "0800", echo())), 0))
	for mti, want := range map[string]string{"0120": "0130", "0121": "0130"} {
		resp := u.roundTrip(newMsg(t, mti, authFields("4111111111111111", "100", "000011")))
		assert.Equal(t, want, str(resp, 0), mti)
		assert.Equal(t, "00", str(resp, 39), mti)
	}
}

// down_after: N answers N authorizations; the next one is left
// unanswered and takes the simulator down (its links close, new ones too);
// brought up, it answers again, and the rule does not fire a second time.
func TestDownAfter(t *testing.T) {
	s := startSim(t, config.Simulator{Name: "bank", DownAfter: 2}, nil)
	c := dialSim(t, s.Addr())
	for i, stan := range []string{"000001", "000002"} {
		resp := c.roundTrip(newMsg(t, "0100", authFields("4111111111111111", "100", stan)))
		assert.Equal(t, "00", str(resp, 39), "answer %d", i+1)
	}
	assert.False(t, s.Down())
	c.send(newMsg(t, "0100", authFields("4111111111111111", "100", "000003")))
	require.NoError(t, c.nc.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err := c.fr.Next()
	require.Error(t, err, "the third request is not answered: its link closes")
	assert.True(t, s.Down())
	assert.Equal(t, int64(1), s.Stats().NoAnswer)

	g := &Group{sims: []*Sim{s}}
	assert.Equal(t, []State{{Name: "bank", Listen: s.Addr(), State: "down"}}, g.SimulatorStates())
	st, found := g.SetSimulatorDown("bank", false)
	require.True(t, found)
	assert.Equal(t, State{Name: "bank", Listen: s.Addr(), State: "up"}, st)
	_, found = g.SetSimulatorDown("bank-z", true)
	assert.False(t, found)

	u := dialSim(t, s.Addr())
	for _, stan := range []string{"000004", "000005", "000006"} {
		resp := u.roundTrip(newMsg(t, "0100", authFields("4111111111111111", "100", stan)))
		assert.Equal(t, "00", str(resp, 39), "STAN %s: fired once", stan)
	}
	assert.False(t, s.Down())
}
