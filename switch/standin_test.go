package switchd_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// standInYAML is one issuer "bank" (BIN 4) at addr with the journal at
// path, offline_after and the stand_in block given (indented as under an
// issuer; "" for none).
func standInYAML(path, addr, timeout string, offlineAfter int, standIn string) string {
	return "issuers:\n" + issuerYAML("bank", timeout, addr) + fmt.Sprintf(`    echo_interval: 0s
    offline_after: %d
%s
routes:
  - bin: "4"
    issuer: bank
journal:
  path: %q
reversals:
  retry_min: 50ms
  retry_max: 500ms
`, offlineAfter, standIn, path)
}

// After offline_after consecutive timeouts the issuer is offline: the
// next request is answered without being sent (the issuer, which holds
// every request, has still seen only the ones that timed out), and the
// issuer shows offline in /admin/routes. The 0810 of a new sign-on
// brings it back, and it answers again.
func TestOfflineAfterTimeoutsDecidedAtOnce(t *testing.T) {
	iss := startSIIssuer(t, true, 0)
	log, events := newEventLog()
	sw := startSwitchLog(t, standInYAML(journalPath(t), iss.addr(), "100ms", 2, ""), log, "bank")
	c := dial(t, sw.addr)
	for i := 1; i <= 2; i++ {
		assert.Equal(t, "91", str(t, send(t, c, auth("4111111111111111", 100, i)), 39))
	}
	events.await(t, "issuer offline", 1)
	assert.True(t, sw.Routes().Issuers[0].Offline)

	resp := send(t, c, auth("4111111111111111", 100, 3))
	assert.Equal(t, "91", str(t, resp, 39))
	auths, _, _ := iss.counts()
	assert.Equal(t, 2, auths, "decided at once: the third request never reached the issuer")

	iss.set(false, 0)
	iss.dropLinks() // the switch signs on again: the 0810 brings the issuer back
	events.await(t, "issuer back online", 1)
	require.NoError(t, waitUp(sw, "bank"))
	assert.False(t, sw.Routes().Issuers[0].Offline)
	assert.Equal(t, "00", str(t, send(t, c, auth("4111111111111111", 100, 4)), 39))
}

// waitUp waits until issuer name has a live link.
func waitUp(sw *running, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), lostDeadline)
	defer cancel()
	return sw.WaitIssuer(ctx, name, atLeast(1))
}
