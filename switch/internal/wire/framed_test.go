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
