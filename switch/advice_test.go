package switchd_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An acquirer's 0120 reports a decision already taken elsewhere: it is
// delivered until acknowledged, never reversed. When its issuer does not
// answer in time, no 0420 reaches the issuer: the advice is stored and
// repeated as 0121 until an 0130, and the acquirer gets 0130/00 once it is
// stored (the switch has taken over its delivery).
func TestTimedOutAdviceIsRepeatedNotReversed(t *testing.T) {
	iss := startHoldIssuer(t)
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, iss.ln.Addr().String(), "200ms", ""), "bank")
	adv := auth(panApprove, 100, 21)
	adv.MTI = "0120"
	resp := send(t, dial(t, sw.addr), adv)
	require.Equal(t, "0130", mti(t, resp))
	assert.Equal(t, "00", str(t, resp, 39), "the advice is stored: the switch delivers it")
	advices := iss.waitAdvices(t, "the advice repeated", func(a [][]byte, _ int) bool { return len(a) >= 2 })
	assert.Equal(t, "0120", frameMTI(t, advices[0]))
	assert.Equal(t, "0121", frameMTI(t, advices[1]))
	assert.Equal(t, panApprove, frameField(t, advices[1], 2), "the stored advice keeps its PAN")

	iss.release()
	iss.waitAdvices(t, "an acknowledged repeat", func(_ [][]byte, acked int) bool { return acked >= 1 })
	awaitNoReversalsOwed(t, path)
	sw.stop() // nothing more can be sent: what the issuer saw is final
	iss.mu.Lock()
	for _, a := range iss.advices {
		assert.NotEqual(t, "04", frameMTI(t, a)[:2], "a reversal reached the issuer for an advice")
	}
	iss.mu.Unlock()
	es, err := openJournal(t, path).List(context.Background(), journal.Filter{RRN: fmt.Sprintf("%012d", 21)})
	require.NoError(t, err)
	require.NotEmpty(t, es)
	for _, e := range es {
		assert.Equal(t, "0120", e.MTI, "entry %d (%s: %s)", e.ID, e.Outcome, e.Reason)
		assert.NotEqual(t, journal.Reversed, e.Outcome, "entry %d", e.ID)
	}
}

// An 0120 whose issuer has no live link is stored at once, answered
// 0130/00, and delivered when the issuer is up, first as 0120 (it was
// never sent before); no 0420.
func TestAdviceForADownIssuerIsStored(t *testing.T) {
	addr := deadAddr(t)
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, addr, "1s", ""))
	adv := auth(panApprove, 100, 22)
	adv.MTI = "0120"
	resp := send(t, dial(t, sw.addr), adv)
	require.Equal(t, "0130", mti(t, resp))
	assert.Equal(t, "00", str(t, resp, 39))

	iss := startHoldIssuerAt(t, addr)
	iss.release()
	advices := iss.waitAdvices(t, "the advice delivered", func(a [][]byte, acked int) bool { return acked >= 1 })
	assert.Equal(t, "0120", frameMTI(t, advices[0]))
	awaitNoReversalsOwed(t, path)
}

// frameField is field id of a frame as the issuer received it.
func frameField(t *testing.T, frame []byte, id int) string {
	t.Helper()
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	var v iso.View
	require.NoError(t, sc.Scan(frame, &v))
	return string(v.Field(id))
}
