package iso

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// contentCases is each content validator's table: values it accepts
// (true) and refuses (false), the edges of each rule among them.
var contentCases = []struct {
	name  string
	valid func([]byte) bool
	cases map[string]bool
}{
	{"processing code (3)", ValidProcessingCode, map[string]bool{
		"000000": true, "001000": true, "002000": true, "003000": true, "010000": true, "090000": true,
		"110000": true, "170000": true, "200000": true, "200020": true, "210000": true, "220000": true,
		"280000": true, "300000": true, "310000": true, "400000": true, "401020": true, "500000": true,
		"006000": true, "000060": true, "900000": true, "990000": true, "594060": true,
		"164761": false,                  // the misaligned PAN: account types 47 and 61
		"600000": false, "890000": false, // unassigned
		"001100": false, "000070": false, "070000": true, "000001": false, "000100": false,
		"00000": false, "0000000": false, "00000A": false, "": false, " 00000": false,
	}},
	{"amount (4)", ValidAmount, map[string]bool{
		"000000000000": true, "000000001000": true, "999999999999": true,
		"00000000100": false, "0000000010000": false, "00000000100A": false, "-00000000100": false, "": false,
	}},
	{"transmission date and time (7)", ValidTransmissionTime, map[string]bool{
		"0101000000": true, "1231235959": true, "0229120000": true, "0430120000": true, "1126043000": true,
		"0001000000": false, "1301000000": false, "0100000000": false, "0132000000": false,
		"0230120000": false, "0431120000": false, "0631120000": false, "0931120000": false, "1131120000": false,
		"0101240000": false, "0101236000": false, "0101235960": false,
		"010100000": false, "01010000000": false, "01010000A0": false, "": false,
	}},
	{"local time (12)", ValidLocalTime, map[string]bool{
		"000000": true, "235959": true, "175300": true,
		"240000": false, "236000": false, "235960": false, "99999": false, "2359590": false, "12:000": false,
	}},
	{"local date (13)", ValidLocalDate, map[string]bool{
		"0101": true, "1231": true, "0229": true, "1125": true,
		"0000": false, "1301": false, "0230": false, "0431": false, "0100": false, "101": false, "01011": false, "O101": false,
	}},
	{"currency code (49)", ValidCurrencyCode, map[string]bool{
		"840": true, "978": true, "000": true, "999": true,
		"USD": false, "84": false, "8400": false, "84 ": false, "": false,
	}},
}

func TestContentValidators(t *testing.T) {
	for _, tc := range contentCases {
		t.Run(tc.name, func(t *testing.T) {
			for val, want := range tc.cases {
				assert.Equal(t, want, tc.valid([]byte(val)), "%q", val)
			}
		})
	}
}

func TestContentValidatorsDoNotAllocate(t *testing.T) {
	for _, tc := range contentCases {
		for val := range tc.cases {
			b := []byte(val)
			require.Zero(t, testing.AllocsPerRun(10, func() { tc.valid(b) }), "%s %q", tc.name, val)
		}
	}
}

// TestCheckContent: the first present field with bad content is named;
// absent fields are not CheckContent's concern.
func TestCheckContent(t *testing.T) {
	s := newTestScanner(t)
	good := map[int]string{2: "4111111111111111", 3: "000000", 4: "000000001000", 7: "1126043000", 11: "000001",
		12: "043000", 13: "1126", 49: "840"}
	for name, tt := range map[string]struct {
		id   int
		val  string
		want int
	}{
		"all good":          {0, "", 0},
		"bad 3":             {3, "164761", 3},
		"bad 7 month":       {7, "1326043000", 7},
		"bad 7 day":         {7, "0231043000", 7},
		"bad 7 hour":        {7, "1126243000", 7},
		"bad 12":            {12, "246000", 12},
		"bad 13":            {13, "0001", 13},
		"alphabetic 49":     {49, "USD", 49},
		"3 and 49 both bad": {49, "USD", 49},
	} {
		t.Run(name, func(t *testing.T) {
			fields := map[int]string{}
			for id, v := range good {
				fields[id] = v
			}
			if tt.id != 0 {
				fields[tt.id] = tt.val
			}
			if name == "3 and 49 both bad" {
				fields[3] = "990099"
				tt.want = 3
			}
			var v View
			require.NoError(t, s.Scan(buildMsg(t, "0100", fields), &v))
			assert.Equal(t, tt.want, CheckContent(&v))
			assert.Zero(t, testing.AllocsPerRun(10, func() { CheckContent(&v) }))
		})
	}
	var bare View
	require.NoError(t, s.Scan(buildMsg(t, "0400", map[int]string{2: "4111111111111111", 11: "000001"}), &bare))
	assert.Zero(t, CheckContent(&bare), "absent fields are not checked")
}
