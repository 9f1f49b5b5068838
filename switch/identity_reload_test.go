package switchd_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A reload that removes an acquirer also applies to its open connections:
// the next request is refused (58) and the connection closed.
func TestReloadRemovingAcquirerClosesItsConnections(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	allowed := acquirerYAML("  - {name: acq-a, institution_id: \"123456\", allow_cidrs: [127.0.0.1/32]}\n") + bankYAML(sim.Addr())
	sw := opsRun(t, opsLoad(t, allowed))
	opsWaitUp(t, sw, "bank")
	c := dialRaw(t, sw.addr)
	c.write(t, packAcq(t, auth("4111111111111111", 100, 1), "123456"))
	_, code := readCode(t, c)
	require.Equal(t, "00", code)

	elsewhere := acquirerYAML("  - {name: acq-b, institution_id: \"654321\", allow_cidrs: [10.0.0.0/8]}\n") + bankYAML(sim.Addr())
	res, err := sw.Apply(context.Background(), opsLoad(t, elsewhere))
	require.NoError(t, err)
	require.True(t, res.Changed)

	c.write(t, packAcq(t, auth("4111111111111111", 100, 2), "123456"))
	_, code = readCode(t, c)
	assert.Equal(t, switchd.CodeNotPermitted, code)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = c.Read(make([]byte, 1))
	assert.True(t, errors.Is(err, io.EOF), "connection closed after the refusal, got %v", err)
}
