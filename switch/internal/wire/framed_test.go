package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/iso"
)

// TestFramedWriter: with SetFraming the writer frames with the dialect's
// length and header: QueueFramed with the header given (a TPDU answer),
// QueueAfter with the configured fixed header; a frame the framing cannot
// carry is refused and nothing is queued.
func TestFramedWriter(t *testing.T) {
	cw := &countingWriter{}
	w := NewWriter(cw, 1<<20)
	w.SetFraming(iso.Framing{Length: iso.LengthASCII4, Header: iso.HeaderTPDU, Fixed: []byte{0x60, 0, 0, 0, 0}})
	require.NoError(t, w.QueueFramed([]byte{0x60, 0, 1, 0, 2}, []byte("abc"), 0))
	require.NoError(t, w.Queue([]byte("de")))
	var fe *iso.FramingError
	require.ErrorAs(t, w.QueueFramed([]byte{0x60}, []byte("x"), 0), &fe, "a header of the wrong size")
	require.ErrorAs(t, w.QueueFramed(nil, make([]byte, 10000), 0), &fe, "too long for ascii4")
	w.Close()
	require.NoError(t, w.Run())
	var all []byte
	for _, b := range cw.writes {
		all = append(all, b...)
	}
	assert.Equal(t, []byte("0008\x60\x00\x01\x00\x02abc0007\x60\x00\x00\x00\x00de"), all)
}

// TestQueueFramedHeldWaitsForWake: a framed writer (a TPDU behind a 2-byte
// length, an ASCII length) holds its frames as a plain one does, each in
// its framing, and writes them in one write once woken; QueueHeld on it
// frames with the configured header.
func TestQueueFramedHeldWaitsForWake(t *testing.T) {
	cw, ca := &countingWriter{}, &countingWriter{}
	tw, aw := NewWriter(cw, 1<<20), NewWriter(ca, 1<<20)
	tw.SetFraming(iso.Framing{Length: iso.LengthBinary2, Header: iso.HeaderTPDU})
	aw.SetFraming(iso.Framing{Length: iso.LengthASCII4})
	var h Held
	tpdu := []byte{0x60, 0, 1, 0, 3}
	require.NoError(t, tw.QueueFramedHeld(tpdu, []byte("a"), 0, &h))
	require.NoError(t, aw.QueueHeld([]byte("b"), 0, &h))
	require.NoError(t, tw.QueueFramedHeld(tpdu, []byte("c"), 0, &h))
	require.NoError(t, aw.QueueFramedHeld(nil, []byte("d"), 0, &h))
	assert.Empty(t, tw.wake, "not woken by a held frame")
	assert.Empty(t, aw.wake)
	assert.Len(t, h.ws, 2, "each writer noted once")

	h.Wake()
	tw.Close()
	aw.Close()
	require.NoError(t, tw.Run())
	require.NoError(t, aw.Run())
	require.Len(t, cw.writes, 1, "the held frames in one write")
	assert.Equal(t, []byte{0, 6, 0x60, 0, 1, 0, 3, 'a', 0, 6, 0x60, 0, 1, 0, 3, 'c'}, cw.writes[0])
	require.Len(t, ca.writes, 1)
	assert.Equal(t, []byte("0001b0001d"), ca.writes[0])
}
