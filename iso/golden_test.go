package iso

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/field"
	"github.com/stretchr/testify/require"
)

const goldenDir = "../testdata/golden"

// buildGolden builds a golden case's message from its field values.
func buildGolden(t testing.TB, gc goldenCase) []byte {
	t.Helper()
	msg := NewMessage(Spec87())
	msg.MTI(gc.mti)
	for id, val := range gc.fields {
		require.NoError(t, setField(msg, id, val), "field %d", id)
	}
	packed, err := msg.Pack()
	require.NoError(t, err)
	return packed
}

// setField sets a field from its GetString form. Hex fields (52, 64...)
// need BinaryField: moov's Message.Field would hex-encode the hex text.
func setField(msg *iso8583.Message, id int, val string) error {
	if _, ok := msg.GetSpec().Fields[id].(*field.Hex); ok {
		b, err := hex.DecodeString(val)
		if err != nil {
			return err
		}
		return msg.BinaryField(id, b)
	}
	return msg.Field(id, val)
}

// readGoldenFrame returns a golden file's frame (header + message).
func readGoldenFrame(t testing.TB, file string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(goldenDir, file))
	require.NoError(t, err)
	frame, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	require.NoError(t, err)
	return frame
}

func TestGoldenPackMatchesHandWritten(t *testing.T) {
	for _, gc := range goldenCases {
		t.Run(gc.name, func(t *testing.T) {
			require.Equal(t, gc.wire, string(buildGolden(t, gc)))
		})
	}
}

func TestGoldenUnpack(t *testing.T) {
	for _, gc := range goldenCases {
		t.Run(gc.name, func(t *testing.T) {
			msg := NewMessage(Spec87())
			require.NoError(t, msg.Unpack([]byte(gc.wire)))
			mti, err := msg.GetMTI()
			require.NoError(t, err)
			require.Equal(t, gc.mti, mti)
			got := map[int]string{}
			for id := range msg.GetFields() {
				if id < 2 {
					continue
				}
				got[id], err = msg.GetString(id)
				require.NoError(t, err)
			}
			require.Equal(t, gc.fields, got)
		})
	}
}

func TestGoldenSecondaryBitmapOnlyWhenNeeded(t *testing.T) {
	// Guards against moov's shipped Spec87ASCII mistake (16-byte bitmap).
	require.Equal(t, "723C040128C09000", golden0100[4:20])
	require.Equal(t, "82200000000000000400000000000000", golden0800[4:36])
}

func TestGoldenFrames(t *testing.T) {
	for _, gc := range goldenCases {
		t.Run(gc.name, func(t *testing.T) {
			frame := readGoldenFrame(t, gc.file)
			want := append([]byte{byte(len(gc.wire) >> 8), byte(len(gc.wire))}, gc.wire...)
			require.Equal(t, want, frame)
			require.Equal(t, want, AppendFrame(nil, buildGolden(t, gc)))

			body, err := NewFrameReader(strings.NewReader(string(frame)), 0).Next()
			require.NoError(t, err)
			require.Equal(t, gc.wire, string(body))
		})
	}
}
