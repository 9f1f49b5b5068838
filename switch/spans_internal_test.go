package switchd

import (
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/internal/pan"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTxnFieldsMatchTheView: the journal fields an answer takes from its
// Txn's spans are those a scan of the request gives, for a PAN in field 2
// or in track 2 and with optional fields absent, also once the frame the
// request was read from is reused.
func TestTxnFieldsMatchTheView(t *testing.T) {
	spec := iso.Spec87()
	sc, err := iso.NewScanner(spec)
	require.NoError(t, err)
	c := &acqConn{s: snapSwitch(), lst: &listener{}, id: 7, acquirer: "acq-1", remote: "10.0.0.1:4000", started: time.Unix(1700000000, 0)}
	for name, fields := range map[string]map[int]string{
		"all": {2: "4111111111111111", 3: "000000", 4: "000000001000", 7: "1126043000", 11: "000042",
			37: "000000000042", 41: "TERM0001", 49: "840"},
		"track 2": {35: "5500000000000004=2512101", 3: "000000", 4: "000000000500", 7: "1126043000", 11: "000043"},
		"bare":    {2: "4000000000000002", 11: "000044"},
	} {
		t.Run(name, func(t *testing.T) {
			m := iso.NewMessage(spec)
			m.MTI("0100")
			for id, val := range fields {
				require.NoError(t, m.Field(id, val))
			}
			frame, err := m.Pack()
			require.NoError(t, err)
			var v iso.View
			require.NoError(t, sc.Scan(frame, &v))
			sp := requestSpans(&v)
			txn := c.newRequest(frame, &v, &sp, "bank", false)
			clear(frame) // the Txn has its own copy

			var m1, m2 [pan.MaxLen]byte
			var again iso.View
			require.NoError(t, sc.Scan(txn.Frame, &again))
			againSp := requestSpans(&again)
			want := c.entry(&answer{frame: again.Frame(), spans: againSp, started: txn.Started, latency: time.Millisecond,
				issuer: "bank", code: "00", outcome: journal.Approved}, &m1)
			got := c.entry(&answer{frame: txn.Frame, spans: txn.entrySpans(), started: txn.Started, latency: time.Millisecond,
				issuer: "bank", code: "00", outcome: journal.Approved}, &m2)
			assert.Equal(t, want, got)
			assert.Equal(t, fields[11], string(got.STAN))
			assert.Len(t, got.PAN, 16)
			assert.Contains(t, string(got.PAN), "******")
		})
	}
}

// TestRelayedRequestKeepsItsOriginal: a relayed request carrying field 90
// (an acquirer's 0420, 0421 or 0400) has its Txn's Original on it, so that
// only an answer echoing the same 90 (or none) is taken as its answer;
// one without 90 has none to compare.
func TestRelayedRequestKeepsItsOriginal(t *testing.T) {
	spec := iso.Spec87()
	sc, err := iso.NewScanner(spec)
	require.NoError(t, err)
	c := &acqConn{lst: &listener{}, id: 7, acquirer: "acq-1", started: time.Unix(1700000000, 0)}
	const orig = "010000004211260430000000000000000000000000"
	for _, mti := range []string{"0420", "0421", "0400", "0100"} {
		m := iso.NewMessage(spec)
		m.MTI(mti)
		fields := map[int]string{2: "4111111111111111", 4: "000000001000", 11: "000042", 90: orig}
		if mti == "0100" {
			delete(fields, 90)
		}
		for id, val := range fields {
			require.NoError(t, m.Field(id, val))
		}
		frame, err := m.Pack()
		require.NoError(t, err)
		var v iso.View
		require.NoError(t, sc.Scan(frame, &v))
		sp := requestSpans(&v)
		r := c.newRequest(frame, &v, &sp, "bank", false)
		assert.Equal(t, fields[90], string(r.Original.In(r.Frame)), mti)
	}
}
