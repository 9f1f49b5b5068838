package issuer

import (
	"testing"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// relinkTxn is a Txn for a 0420 with field 90 = f90 (absent when "").
func relinkTxn(t *testing.T, f90 string) *Txn {
	t.Helper()
	m := iso.NewMessage(iso.Spec87())
	m.MTI("0420")
	require.NoError(t, m.Field(11, "000777"))
	if f90 != "" {
		require.NoError(t, m.Field(90, f90))
	}
	b, err := m.Pack()
	require.NoError(t, err)
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	var v iso.View
	require.NoError(t, sc.Scan(b, &v))
	tx := &Txn{}
	tx.SetFrame(b)
	copy(tx.STAN[:], v.Field(11))
	copy(tx.MTI[:], v.MTI())
	tx.Original = v.Span(90)
	return tx
}

// RelinkOriginal puts the link STAN in 90, AcquirerFrame and restore give
// the acquirer's back; without a usable 90 nothing changes.
func TestRelinkOriginal(t *testing.T) {
	acq90 := "0100" + "000000" + "1207120000" + "00000012345" + "00000000000"
	tx := relinkTxn(t, acq90)
	require.True(t, tx.RelinkOriginal(42))
	assert.Equal(t, "0100000042"+acq90[10:], string(tx.Original.In(tx.Frame)), "the issuer's view")
	asSent := tx.AcquirerFrame()
	assert.Equal(t, acq90, string(tx.Original.In(asSent)), "the acquirer's STAN 000000 back")
	assert.NotEqual(t, string(asSent), string(tx.Frame), "a copy: the frame keeps the issuer's view")

	// The issuer's answer echoes what it saw; the acquirer gets its own.
	answer := append([]byte(nil), tx.Frame...)
	answer[2] = '3' // 0430
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	var v iso.View
	require.NoError(t, sc.Scan(answer, &v))
	require.Equal(t, matched, mismatch(tx, &v), "the answer to what the issuer saw")
	require.NoError(t, restore(&v, tx))
	assert.Equal(t, acq90, string(v.Field(90)))

	// The spec packs 90 at 42 digits only: absent is the case left.
	tx = relinkTxn(t, "")
	before := string(tx.Frame)
	assert.False(t, tx.RelinkOriginal(42))
	assert.Equal(t, before, string(tx.Frame))
	assert.Equal(t, before, string(tx.AcquirerFrame()))
}
