package iso

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/prefix"
	"github.com/stretchr/testify/require"
)

const (
	jposFrames       = "../testdata/interop/jpos/frames.jsonl"
	jposSharedFrames = "../../shared/interop/jpos/frames.jsonl"
)

// jposFrame is one line of frames.jsonl: a frame packed by jPOS and the
// field values that produced it.
type jposFrame struct {
	Dialect      string            `json:"dialect"`
	Name         string            `json:"name"`
	Hex          string            `json:"hex"`
	Fields       map[string]string `json:"fields"`
	BinaryFields []int             `json:"binary_fields"`
}

func readJPOSFrames(t testing.TB) []jposFrame {
	t.Helper()
	raw, err := os.ReadFile(jposFrames)
	require.NoError(t, err)
	var out []jposFrame
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var f jposFrame
		require.NoError(t, json.Unmarshal(sc.Bytes(), &f))
		out = append(out, f)
	}
	require.NoError(t, sc.Err())
	require.Len(t, out, 36)
	return out
}

// The copy in testdata must stay the frames jPOS produced.
func TestJPOSFramesCopyMatchesShared(t *testing.T) {
	shared, err := os.ReadFile(jposSharedFrames)
	if os.IsNotExist(err) {
		t.Skip("no shared/ beside the clone")
	}
	require.NoError(t, err)
	local, err := os.ReadFile(jposFrames)
	require.NoError(t, err)
	require.Equal(t, shared, local)
}

func TestDialectGoldenPackJPOS(t *testing.T) {
	for _, f := range readJPOSFrames(t) {
		t.Run(f.Dialect+"/"+f.Name, func(t *testing.T) {
			spec := goldenDialectSpec(t, f.Dialect)
			msg := iso8583.NewMessage(spec)
			for _, id := range sortedIDs(f.Fields) {
				require.NoError(t, setJPOSField(msg, id, f), "field %d", id)
			}
			packed, err := msg.Pack()
			require.NoError(t, err)
			require.Equal(t, f.Hex, strings.ToUpper(hex.EncodeToString(packed)))
		})
	}
}

func TestDialectGoldenUnpackJPOS(t *testing.T) {
	for _, f := range readJPOSFrames(t) {
		t.Run(f.Dialect+"/"+f.Name, func(t *testing.T) {
			spec := goldenDialectSpec(t, f.Dialect)
			raw, err := hex.DecodeString(f.Hex)
			require.NoError(t, err)
			msg := iso8583.NewMessage(spec)
			require.NoError(t, msg.Unpack(raw))
			got := map[string]string{}
			for id := range msg.GetFields() {
				if id == 1 {
					continue
				}
				got[strconv.Itoa(id)] = jposValue(t, msg, id, f)
			}
			require.Equal(t, f.Fields, got)
		})
	}
}

// goldenDialectSpec is the spec of the built-in dialect named as the file
// names jPOS's packager.
func goldenDialectSpec(t *testing.T, name string) *iso8583.MessageSpec {
	t.Helper()
	d, err := LookupDialect(name)
	require.NoError(t, err)
	s, err := d.Spec()
	require.NoError(t, err)
	return s
}

func sortedIDs(fields map[string]string) []int {
	ids := make([]int, 0, len(fields))
	for k := range fields {
		id, _ := strconv.Atoi(k)
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

func isBinary(f jposFrame, id int) bool {
	for _, b := range f.BinaryFields {
		if b == id {
			return true
		}
	}
	return false
}

func setJPOSField(msg *iso8583.Message, id int, f jposFrame) error {
	val := f.Fields[strconv.Itoa(id)]
	if id == 0 {
		msg.MTI(val)
		return nil
	}
	if isBinary(f, id) {
		b, err := hex.DecodeString(val)
		if err != nil {
			return err
		}
		return msg.BinaryField(id, b)
	}
	return setField(msg, id, val)
}

// jposValue is a field's value as frames.jsonl spells it: bytes as
// uppercase hex, fixed numerics of today's spec (moov Numeric, which
// keeps no leading zeros) zero-padded to their length.
func jposValue(t *testing.T, msg *iso8583.Message, id int, f jposFrame) string {
	t.Helper()
	fld := msg.GetField(id)
	if isBinary(f, id) {
		b, err := fld.Bytes()
		require.NoError(t, err)
		return strings.ToUpper(hex.EncodeToString(b))
	}
	s, err := msg.GetString(id)
	require.NoError(t, err)
	if n, ok := fld.(*field.Numeric); ok && n.Spec().Pref == prefix.ASCII.Fixed {
		s = strings.Repeat("0", max(0, n.Spec().Length-len(s))) + s
	}
	return s
}
