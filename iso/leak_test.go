package iso

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// issuePAN is the card of issue 19's misaligned message.
const issuePAN = "4761739001010119"

func TestSharesPANDigits(t *testing.T) {
	tests := []struct {
		col, pan string
		want     bool
	}{
		{"739001010119", issuePAN, true},  // the issue's amount column
		{"617390010101", issuePAN, true},  // the issue's RRN column
		{"476173900101", issuePAN, true},  // the PAN's first 12
		{"X739001010119", issuePAN, true}, // a run after a non-digit
		{"47617390010101", issuePAN, true},
		{"000000001000", issuePAN, false},
		{"73900101011", issuePAN, false},   // 11 digits
		{"7390010101 19", issuePAN, false}, // the run is cut
		{"739001010118", issuePAN, false},
		{"164761", issuePAN, false},
		{"739001010119", "73900101011", false}, // a PAN shorter than a window
		{"739001010119", "", false},
		{"", issuePAN, false},
		// zero-padded values against test cards that are mostly zeros
		{"000000000000", "5200000000000007", false},
		{"000000000007", "5200000000000007", false},
		{"000000000005", "4000000000000005", false},
		{"520000000000", "5200000000000007", false},
		{"000000012345", "4000000012345999", false}, // 5 significant digits
		{"001234567890", "4001234567890123", true},  // 9
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, SharesPANDigits([]byte(tt.col), []byte(tt.pan)), "%q in %q", tt.col, tt.pan)
	}
	col, pan := []byte("X739001010119"), []byte(issuePAN+"123")
	require.Zero(t, testing.AllocsPerRun(10, func() { SharesPANDigits(col, pan) }))
}

func TestHasTrackSeparator(t *testing.T) {
	for col, want := range map[string]bool{
		"1=2512101000": true, "19^SMITH/JOHN": true, "=": true,
		"000000000042": false, "TERM0001": false, "A1B2C3D4E5F6": false, "": false,
	} {
		assert.Equal(t, want, HasTrackSeparator([]byte(col)), col)
	}
	col := []byte("000000000042")
	require.Zero(t, testing.AllocsPerRun(10, func() { HasTrackSeparator(col) }))
}

func TestTrackPANDigits(t *testing.T) {
	for track, want := range map[string]string{
		issuePAN + "=2512101":         issuePAN,
		";" + issuePAN + "=2512?":     issuePAN,
		issuePAN + "D2512101":         issuePAN,
		issuePAN:                      issuePAN, // no separator: still the card's digits
		"B" + issuePAN + "^SMITH/J^":  issuePAN, // track 1 (45)
		"%B" + issuePAN + "^SMITH/J^": issuePAN,
		"=2512":                       "",
		"":                            "",
	} {
		assert.Equal(t, want, string(TrackPANDigits([]byte(track))), track)
	}
}

func TestSharesTrackDigits(t *testing.T) {
	frame := []byte("0100xxxx000042" + "33" + issuePAN + "=2512101000012345" + "B" + "5500000000000004" + "^SMITH/J^2512")
	for col, want := range map[string]bool{
		"739001010119": true, // the track's PAN, scanned as something else
		"334761739001": true, // 10 of its digits and the length prefix before them: within the 19 digits before "="
		"000042334761": false,
		"550000000000": false, // not significant (mostly zeros)
		"2512101000":   false,
		"000000001000": false,
	} {
		assert.Equal(t, want, SharesTrackDigits([]byte(col), frame), col)
	}
	assert.True(t, SharesTrackDigits([]byte("617390010101"), []byte("00"+issuePAN+"^")))
	assert.False(t, SharesTrackDigits([]byte("617390010101"), []byte(issuePAN)), "no separator: not track data")
	col := []byte("739001010119")
	require.Zero(t, testing.AllocsPerRun(10, func() { SharesTrackDigits(col, frame) }))
}

// A misaligned frame can leave non-digits between a track's card number
// and its separator ("...0101" "19" "AA" "="): the card is still found
// (FuzzJournalNoPAN found the RRN holding digits 3-14 of such a card).
func TestSharesTrackDigitsAcrossJunk(t *testing.T) {
	frame := []byte("0400...42334761739001010119AA=2512101")
	if !SharesTrackDigits([]byte("617390010101"), frame) {
		t.Fatal("the RRN shares 12 digits with the card before the separator")
	}
	if SharesTrackDigits([]byte("617390010101"), []byte("4761739001010119"+string(make([]byte, trackLookBack))+"=")) {
		t.Fatal("digits further back than trackLookBack are not the track's")
	}
}
