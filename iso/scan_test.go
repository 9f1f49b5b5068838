package iso

import (
	"errors"
	"strings"
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/prefix"
	"github.com/stretchr/testify/require"
)

func newTestScanner(t testing.TB) *Scanner {
	t.Helper()
	s, err := NewScanner(Spec87())
	require.NoError(t, err)
	return s
}

func TestScanGolden(t *testing.T) {
	s := newTestScanner(t)
	var v View
	for _, gc := range goldenCases {
		t.Run(gc.name, func(t *testing.T) {
			frame := []byte(gc.wire)
			require.NoError(t, s.Scan(frame, &v))
			require.Equal(t, gc.mti, string(v.MTI()))
			require.Equal(t, frame, v.Frame())
			for id := 2; id <= 128; id++ {
				_, want := gc.fields[id]
				require.Equal(t, want, v.Has(id), "field %d", id)
			}
		})
	}
	require.NoError(t, s.Scan([]byte(golden0100), &v))
	require.Equal(t, "4111111111111111", string(v.Field(2)))
	require.Equal(t, "164111111111111111", string(v.Raw(2)))
	require.Equal(t, "000000", string(v.Field(3)))
	require.Equal(t, "000000001000", string(v.Field(4)))
	require.Equal(t, "0123456789ABCDEF", string(v.Field(52)))
	require.Equal(t, "723C040128C09000", string(v.Field(1)))
	require.Equal(t, 52, v.Scanned())
	require.Nil(t, v.Field(5))
	require.Nil(t, v.Field(-1))
	require.Nil(t, v.Field(129))

	require.NoError(t, s.Scan([]byte(golden0800), &v))
	require.Equal(t, "301", string(v.Field(70)))
	require.Equal(t, "82200000000000000400000000000000", string(v.Field(1)))
}

// Field's capacity is clipped: appending must not overwrite the frame.
func TestViewFieldCapacityClipped(t *testing.T) {
	s := newTestScanner(t)
	var v View
	frame := []byte(golden0100)
	require.NoError(t, s.Scan(frame, &v))
	_ = append(v.Field(3), 'X')
	require.Equal(t, golden0100, string(frame))
}

// replaceAt overwrites s at the first occurrence of old (same length).
func replaceOnce(t testing.TB, s, old, repl string) string {
	t.Helper()
	require.Len(t, repl, len(old))
	require.Contains(t, s, old)
	return strings.Replace(s, old, repl, 1)
}

// corruptCase is a malformed frame, the Scan error and whether moov's
// Unpack accepts it (where Scan is deliberately stricter).
type corruptCase struct {
	name        string
	frame       string
	wantErr     string
	moovAccepts bool
}

func corruptCases(t testing.TB) []corruptCase {
	g := golden0100
	return []corruptCase{
		{"empty", "", "iso: missing or malformed MTI", false},
		{"short MTI", "010", "iso: missing or malformed MTI", false},
		{"garbage", "hello world, this is not ISO 8583", "iso: missing or malformed MTI", false},
		{"MTI not digits", "01X0" + g[4:], "iso: missing or malformed MTI", true},
		{"truncated bitmap", g[:12], "field 1: frame ends inside field", false},
		{"non-hex bitmap", replaceOnce(t, g, "723C", "72XC"), "field 1: non-hex character in field", false},
		{"truncated in field 2 prefix", g[:21], "field 2: frame ends inside field", false},
		{"truncated in field 2 data", g[:30], "field 2: frame ends inside field", false},
		{"truncated in field 35", g[:120], "field 35: frame ends inside field", false},
		{"truncated last field", g[:len(g)-1], "field 52: frame ends inside field", false},
		{"bad LLVAR length", replaceOnce(t, g, "164111", "1X4111"), "field 2: non-digit in length prefix", false},
		{"LLVAR over max", replaceOnce(t, g, "164111", "204111"), "field 2: length exceeds field maximum", false},
		{"signed LLVAR length", replaceOnce(t, g, "06123456", "+6123456"), "field 32: non-digit in length prefix", true},
		{"non-digit numeric", replaceOnce(t, g, "000000001000", "00000000A000"), "field 4: non-digit in numeric field", false},
		{"signed numeric", replaceOnce(t, g, "000000001000", "-00000001000"), "field 4: non-digit in numeric field", true},
		{"non-ASCII", replaceOnce(t, g, "TERM0001", "\xC3ERM0001"), "field 41: non-ASCII byte in field", false},
		{"non-hex binary field", replaceOnce(t, g, "0123456789ABCDEF", "0123456789ABCDEG"), "field 52: non-hex character in field", false},
		{"bitmap announces absent field", replaceOnce(t, g, "723C040128C09000", "723C040128C09001"), "field 64: frame ends inside field", false},
		{"trailing bytes", g + "X", "iso: trailing bytes after last field", true},
		{"tertiary bitmap", replaceOnce(t, golden0800, "0400000000000000", "8400000000000000"), "field 65: tertiary bitmap not supported", false},
	}
}

func TestScanCorrupt(t *testing.T) {
	s := newTestScanner(t)
	var v View
	for _, tt := range corruptCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Scan([]byte(tt.frame), &v)
			require.EqualError(t, err, tt.wantErr)
			if strings.Contains(tt.wantErr, "MTI") {
				require.ErrorIs(t, err, ErrNoMTI)
			} else {
				var fe *FieldError
				require.Equal(t, !errors.Is(err, ErrTrailingData), errors.As(err, &fe))
			}
		})
	}
}

// The switch answers a bad request with 30, echoing what it could scan.
func TestScanKeepsFieldsBeforeError(t *testing.T) {
	s := newTestScanner(t)
	var v View
	frame := replaceOnce(t, golden0100, "0123456789ABCDEF", "0123456789ABCDEG")
	require.Error(t, s.Scan([]byte(frame), &v))
	require.Equal(t, "0100", string(v.MTI()))
	for _, id := range []int{2, 11, 37, 41, 42, 49} {
		require.True(t, v.Has(id), "field %d", id)
	}
	require.False(t, v.Has(52))
	require.Equal(t, 49, v.Scanned())

	frame = replaceOnce(t, golden0100, "000000001000", "00000000A000")
	require.EqualError(t, s.Scan([]byte(frame), &v), "field 4: non-digit in numeric field")
	require.Equal(t, 3, v.Scanned())
	require.False(t, v.Has(4))
	require.False(t, v.Has(11))

	require.ErrorIs(t, s.Scan(nil, &v), ErrNoMTI)
	require.Equal(t, -1, v.Scanned())
	require.Nil(t, v.MTI())
}

func TestViewSet(t *testing.T) {
	s := newTestScanner(t)
	var v View
	frame := []byte(golden0100)
	require.NoError(t, s.Scan(frame, &v))

	tests := []struct {
		id      int
		val     string
		wantErr string
	}{
		{4, "000000002000", ""},
		{0, "0110", ""},
		{52, "FEDCBA9876543210", ""},
		{4, "12", "field 4: new value length differs from the present one"},
		{4, "00000000200A", "field 4: non-digit in numeric field"},
		{0, "01X0", "field 0: non-digit in numeric field"},
		{41, "TERM\xC3001", "field 41: non-ASCII byte in field"},
		{52, "FEDCBA987654321Z", "field 52: non-hex character in field"},
		{5, "000000001000", "field 5: cannot set a field that is not present"},
		{200, "x", "field 200: cannot set a field that is not present"},
		{1, "723C040128C09000", "field 1: cannot set the bitmap"},
	}
	for _, tt := range tests {
		err := v.Set(tt.id, []byte(tt.val))
		if tt.wantErr != "" {
			require.EqualError(t, err, tt.wantErr)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.val, string(v.Field(tt.id)))
	}
	want := replaceOnce(t, golden0100, "000000001000", "000000002000")
	want = "0110" + replaceOnce(t, want[4:], "0123456789ABCDEF", "FEDCBA9876543210")
	require.Equal(t, want, string(frame))
}

func TestScanNoAllocs(t *testing.T) {
	s := newTestScanner(t)
	var v View
	frame := []byte(golden0100)
	corrupt := []byte(replaceOnce(t, golden0100, "000000001000", "00000000A000"))
	allocs := testing.AllocsPerRun(100, func() {
		if s.Scan(frame, &v) != nil {
			panic("scan failed")
		}
	})
	require.Zero(t, allocs)
	allocs = testing.AllocsPerRun(100, func() { _ = s.Scan(corrupt, &v) })
	require.Zero(t, allocs, "rejecting a frame must not allocate either")
}

func TestNewScannerUnsupported(t *testing.T) {
	base := func(extra map[int]field.Field) *iso8583.MessageSpec {
		spec := &iso8583.MessageSpec{Fields: map[int]field.Field{
			0: Spec87().Fields[0],
			1: Spec87().Fields[1],
		}}
		for id, f := range extra {
			spec.Fields[id] = f
		}
		return spec
	}
	tests := []struct {
		name    string
		spec    *iso8583.MessageSpec
		wantErr string
	}{
		{"nil", nil, "iso: nil spec"},
		{"no bitmap", &iso8583.MessageSpec{Fields: map[int]field.Field{0: Spec87().Fields[0]}}, "iso: Bitmap field (1) is required"},
		{"BCD encoding", base(map[int]field.Field{2: field.NewString(&field.Spec{Length: 4, Enc: encoding.BCD, Pref: prefix.ASCII.Fixed})}), "iso: field 2: encoding *encoding.bcdEncoder not supported"},
		{"binary prefix", base(map[int]field.Field{2: field.NewString(&field.Spec{Length: 4, Enc: encoding.ASCII, Pref: prefix.Binary.LL})}), "iso: field 2: prefix Binary.LL not supported"},
		{"long numeric", base(map[int]field.Field{2: field.NewNumeric(&field.Spec{Length: 19, Enc: encoding.ASCII, Pref: prefix.ASCII.Fixed})}), "iso: field 2: numeric field longer than 18 digits overflows moov's int64"},
		{"track2 type", base(map[int]field.Field{35: field.NewTrack2(&field.Spec{Length: 37, Enc: encoding.ASCII, Pref: prefix.ASCII.LL})}), "iso: field 35: field type *field.Track2 not supported"},
		{"beyond 128", base(map[int]field.Field{129: Spec87().Fields[2]}), "iso: field 129: beyond field 128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewScanner(tt.spec)
			require.EqualError(t, err, tt.wantErr)
		})
	}
}

// A lenient scan steps over a field with bad content but a known length,
// so a format-error answer can still carry the STAN and RRN after it.
func TestScanLenientStepsOverBadContent(t *testing.T) {
	s := newTestScanner(t)
	var v View
	frame := replaceOnce(t, golden0100, "000000001000", "00000000A000")
	require.EqualError(t, s.ScanLenient([]byte(frame), &v), "field 4: non-digit in numeric field")
	require.False(t, v.Has(4))
	for _, id := range []int{2, 3, 11, 37, 41, 52} {
		require.True(t, v.Has(id), "field %d", id)
	}
	require.Equal(t, "000123", string(v.Field(11)))

	// A bad length prefix leaves the rest unknowable: the scan stops there.
	frame = replaceOnce(t, golden0100, "06"+"123456", "0X"+"123456")
	require.Error(t, s.ScanLenient([]byte(frame), &v))
	require.False(t, v.Has(37))
	require.True(t, v.Has(22))

	require.NoError(t, s.ScanLenient([]byte(golden0100), &v))
}
