package switchd

import (
	"bytes"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScanAheadHandsOverTheNextFramesScan: with two frames read in one
// go, the second is scanned while the first is current, into the other
// view, and handed over (not scanned again) when its turn comes; a frame
// that was not scanned ahead is scanned then. The duplicate key hashed
// ahead comes with the scan, unless the acquirer changed meanwhile.
// Without a duplicate cache nothing is scanned ahead.
func TestScanAheadHandsOverTheNextFramesScan(t *testing.T) {
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	c := &acqConn{lst: &listener{}, s: &Switch{scanner: sc, dups: newDupCache(time.Minute)}, acquirer: "acq", views: new([2]iso.View)}
	var stream []byte
	for stan := range 3 {
		m, err := acqclient.Request{PAN: "4111111111111111", Amount: 100, STAN: stan + 1, RRN: "000000000001",
			Terminal: "TERM0001"}.Message()
		require.NoError(t, err)
		b, err := m.Pack()
		require.NoError(t, err)
		stream = iso.AppendFrame(stream, b)
	}
	fr := iso.NewFrameReader(bytes.NewReader(stream), 0)

	f1, err := fr.Next()
	require.NoError(t, err)
	v1, err := c.scanned(f1)
	require.NoError(t, err)
	assert.Equal(t, "000001", string(v1.Field(11)))
	c.scanAhead(fr)
	require.NotNil(t, c.ahead.frame, "the second frame is buffered: scanned ahead")
	assert.Equal(t, "000001", string(v1.Field(11)), "the current frame's view is untouched")

	f2, err := fr.Next()
	require.NoError(t, err)
	v2, err := c.scanned(f2)
	require.NoError(t, err)
	assert.NotSame(t, v1, v2, "the view scanned ahead, not the current one scanned again")
	assert.Same(t, &c.views[c.cur], v2)
	assert.Equal(t, "000002", string(v2.Field(11)))
	d := c.s.dups
	assert.True(t, c.key.ok, "the key hashed ahead is handed over with the scan")
	assert.Equal(t, d.key("acq", v2), c.dupKey(v2))
	c.acquirer = "acq-renamed" // re-identified by a reload since the scan ahead
	assert.Equal(t, d.key("acq-renamed", v2), c.dupKey(v2), "hashed again for the acquirer now")
	assert.NotEqual(t, d.key("acq", v2), c.dupKey(v2))
	c.acquirer = "acq"

	// Not scanned ahead: the third frame is scanned when it comes.
	f3, err := fr.Next()
	require.NoError(t, err)
	v3, err := c.scanned(f3)
	require.NoError(t, err)
	assert.Same(t, v2, v3, "scanned into the current view")
	assert.Equal(t, "000003", string(v3.Field(11)))
	assert.False(t, c.key.ok, "no key from a scan ahead")
	assert.Equal(t, d.key("acq", v3), c.dupKey(v3))
	c.scanAhead(fr)
	assert.Nil(t, c.ahead.frame, "nothing left to scan ahead")

	c.s.dups = nil
	fr = iso.NewFrameReader(bytes.NewReader(stream), 0)
	_, err = fr.Next()
	require.NoError(t, err)
	c.scanAhead(fr)
	assert.Nil(t, c.ahead.frame, "no duplicate cache: no scan ahead")
}

// TestDupPrefetchFollowsTheTables: the hint prefetch reads is republished
// when a generation's array is replaced (growth, rotation), so it names
// the arrays a check will probe.
func TestDupPrefetchFollowsTheTables(t *testing.T) {
	d := newDupCache(time.Minute)
	t0 := time.Unix(1_700_000_000, 0)
	d.prefetch(1) // no tables yet: nothing to prefetch, and no fault
	key := uint64(7)
	s := d.shard(dupSlotKey(key))
	for i := range 100 { // keys of this shard only: its table grows
		require.False(t, d.check(key+uint64(i), t0))
		h := s.hint.Load()
		require.NotNil(t, h)
		assert.Equal(t, slotsAddr(s.cur.slots), h.cur, "after %d inserts", i+1)
		assert.Equal(t, slotsMask(s.cur.slots), h.curMask)
	}
	require.False(t, d.check(key+1000, t0.Add(2*time.Minute)), "a window later: cur becomes old")
	h := s.hint.Load()
	assert.Equal(t, slotsAddr(s.old.slots), h.old)
	assert.Equal(t, slotsAddr(s.cur.slots), h.cur)
	assert.NotZero(t, h.old)
	d.prefetch(key)
}
