package iso

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMaskPAN(t *testing.T) {
	tests := []struct{ pan, want string }{
		{"", ""},
		{"4111111111111111", "411111******1111"},
		{"4111111111111111111", "411111*********1111"},
		{"4111111111111", "411111***1111"},
		{"411111111111", "********1111"},
		{"41111111", "****1111"},
		{"4111111", "*******"},
		{"4", "*"},
		{"41111\n11111111\x1b", "41111?*****111?"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, MaskPAN([]byte(tt.pan)), "len %d", len(tt.pan))
	}
}

func TestPANFromTrack2(t *testing.T) {
	tests := []struct{ track2, want string }{
		{"4111111111111111=251210100000000", "4111111111111111"},
		{"4111111111111111D251210100000000", "4111111111111111"},
		{";4111111111111111=2512?", "4111111111111111"},
		{"4111111111111111", ""},
		{"=2512", ""},
		{"41111X1111111111=2512", ""},
		{"41111111111111111111=2512", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got := PANFromTrack2([]byte(tt.track2))
		if tt.want == "" {
			require.Nil(t, got, tt.track2)
			continue
		}
		require.Equal(t, tt.want, string(got))
	}
	require.Zero(t, testing.AllocsPerRun(10, func() { PANFromTrack2([]byte("4111111111111111=2512")) }))
}

func TestRoutingPAN(t *testing.T) {
	s := newTestScanner(t)
	var v View
	require.NoError(t, s.Scan([]byte(golden0100), &v))
	pan, id := RoutingPAN(&v)
	require.Equal(t, "4111111111111111", string(pan))
	require.Equal(t, 2, id)

	onlyTrack2 := buildMsg(t, "0100", map[int]string{3: "0", 35: "5500000000000004=2512101"})
	require.NoError(t, s.Scan(onlyTrack2, &v))
	pan, id = RoutingPAN(&v)
	require.Equal(t, "5500000000000004", string(pan))
	require.Equal(t, 35, id)

	badPAN := buildMsg(t, "0100", map[int]string{2: "41111X", 35: "5500000000000004=2512101"})
	require.NoError(t, s.Scan(badPAN, &v))
	pan, id = RoutingPAN(&v)
	require.Nil(t, pan)
	require.Zero(t, id)

	require.NoError(t, s.Scan([]byte(golden0800), &v))
	pan, id = RoutingPAN(&v)
	require.Nil(t, pan)
	require.Zero(t, id)
}

func buildMsg(t testing.TB, mti string, fields map[int]string) []byte {
	t.Helper()
	return buildGolden(t, goldenCase{mti: mti, fields: fields})
}
