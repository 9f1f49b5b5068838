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
