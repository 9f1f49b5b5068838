package iso

import (
	"bytes"

	panmask "github.com/cardswitch/cardswitch/internal/pan"
)

// PANWindow is the shortest run of a card number's digits that the switch
// treats as card data outside the PAN's own field: 12 digits, more than a
// masked PAN shows (first 6 + last 4) and as many as an amount or an RRN
// holds, so that a misaligned frame cannot put a readable card number
// into a journal column.
const PANWindow = 12

// minSignificant is how many digits other than '0' a shared window must
// hold to count as card data. Test cards are mostly zeros
// (5200000000000007) and amounts and RRNs are zero-padded: a zero amount
// or the RRN 000000000007 shares 12 digits with such a card, yet reveals
// nothing a masked PAN does not. A real card number's 12 digits hold 6 or
// fewer non-zero ones about once in 10,000.
const minSignificant = 6

// SharesPANDigits reports whether col holds a run of PANWindow or more
// digits that shares PANWindow consecutive digits, minSignificant of them
// not '0', with pan. It does not allocate, and costs a few comparisons for
// a 12-byte column and a 19-digit PAN.
func SharesPANDigits(col, pan []byte) bool {
	return MayHoldPANDigits(col) && sharesPAN(col, pan)
}

// sharesPAN is SharesPANDigits for a col that MayHoldPANDigits.
func sharesPAN(col, pan []byte) bool {
	if len(pan) < PANWindow {
		return false
	}
	for i := 0; i+PANWindow <= len(col); {
		run := digitRun(col[i:])
		if run < PANWindow {
			i += run + 1 // past the run and the non-digit that ends it
			continue
		}
		for k := i; k+PANWindow <= i+run; k++ {
			// A column of one window is significant already.
			if w := col[k : k+PANWindow]; (len(col) == PANWindow || significant(w)) && containsWindow(pan, w) {
				return true
			}
		}
		i += run
	}
	return false
}

// SharesCardDigits is SharesPANDigits for each of pans and for the card
// number of any track data in frame (SharesTrackDigits; frame may be nil
// when it has no track separator): the whole guard for one column, with
// its quick test done once.
func SharesCardDigits(col, frame []byte, pans *[3][]byte) bool {
	if !MayHoldPANDigits(col) {
		return false
	}
	for i, pan := range pans {
		if i > 0 && string(pan) == string(pans[i-1]) {
			continue // 35's card is most often 2's (and 45's 35's)
		}
		if sharesPAN(col, pan) {
			return true
		}
	}
	return sharesTrack(col, frame)
}

// digitRun is the length of the run of digits b starts with.
func digitRun(b []byte) int {
	for i, c := range b {
		if c < '0' || c > '9' {
			return i
		}
	}
	return len(b)
}

// MayHoldPANDigits is SharesPANDigits' quick test, for any card: false
// when col is too short or has too few digits other than '0' to share a
// significant window with one (a zero-padded amount, most RRNs of test
// traffic), so that the search for the card's digits can be skipped.
func MayHoldPANDigits(col []byte) bool { return len(col) >= PANWindow && significant(col) }

// significant reports whether window w holds minSignificant digits
// other than '0'.
func significant(w []byte) bool {
	n := 0
	for _, c := range w {
		if c >= '1' && c <= '9' {
			n++
		}
	}
	return n >= minSignificant
}

// containsWindow reports whether w occurs in pan.
func containsWindow(pan, w []byte) bool {
	for j := 0; j+len(w) <= len(pan); j++ {
		if pan[j] == w[0] && string(pan[j:j+len(w)]) == string(w) { // a memequal: no allocation
			return true
		}
	}
	return false
}

// HasTrackSeparator reports whether col holds a separator of magnetic
// stripe data: '=' (track 2 as ASCII, between the PAN and the expiry) or
// '^' (track 1, around the cardholder name). No field the journal keeps
// besides the PAN uses them; in one they mean track data shifted there by
// a misaligned frame.
func HasTrackSeparator(col []byte) bool {
	return bytes.IndexByte(col, '=') >= 0 || bytes.IndexByte(col, '^') >= 0
}

// TrackPANDigits returns the leading digits of track data (after an
// optional ';' or '%B' start), whatever follows them: the card number a
// track carries, even when the track is malformed or cut short.
func TrackPANDigits(track []byte) []byte {
	switch {
	case len(track) > 0 && track[0] == ';':
		track = track[1:]
	case len(track) > 1 && track[0] == '%' && (track[1] == 'B' || track[1] == 'b'):
		track = track[2:]
	case len(track) > 0 && (track[0] == 'B' || track[0] == 'b'):
		track = track[1:]
	}
	return track[:digitRun(track)]
}

// SharesTrackDigits is SharesPANDigits for the card number of any track
// data in frame, wherever its bitmap puts the track or whether it
// announces one at all: the (at most 19) digits before each track
// separator ('=' or '^'), within trackLookBack bytes and skipping
// non-digits. A misaligned frame can scan its track as other fields, where
// TrackPANDigits cannot find the card; its separator still follows the
// card number. It does not allocate.
func SharesTrackDigits(col, frame []byte) bool {
	return MayHoldPANDigits(col) && sharesTrack(col, frame)
}

// trackLookBack is how far before a track separator sharesTrack looks for
// the card's digits: a misaligned frame can put non-digit bytes (another
// field's text, a length prefix) between the card number and its
// separator.
const trackLookBack = 64

// digitsBefore fills card, from its end, with the last digits of b
// (non-digits skipped), at most len(card), and returns them.
func digitsBefore(card *[panmask.MaxLen]byte, b []byte) []byte {
	n := len(card)
	for i := len(b) - 1; i >= 0 && n > 0; i-- {
		if c := b[i]; c >= '0' && c <= '9' {
			n--
			card[n] = c
		}
	}
	return card[n:]
}

// sharesTrack is SharesTrackDigits for a col that MayHoldPANDigits.
func sharesTrack(col, frame []byte) bool {
	if len(frame) == 0 {
		return false
	}
	for _, sep := range [...]byte{'=', '^'} {
		for off := 0; ; {
			i := bytes.IndexByte(frame[off:], sep)
			if i < 0 {
				break
			}
			end := off + i
			var card [panmask.MaxLen]byte
			if sharesPAN(col, digitsBefore(&card, frame[max(0, end-trackLookBack):end])) {
				return true
			}
			off = end + 1
		}
	}
	return false
}
