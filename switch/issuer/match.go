package issuer

import (
	"bytes"

	"github.com/cardswitch/cardswitch/iso"
)

// matched is mismatch's answer for an answer that is its request's.
const matched = -1

// mismatch names the first field in which v, a scanned issuer answer
// under t's link STAN, shows it is not t's answer; matched when none does.
// Link STANs are not reused while a request holds them, so this is the
// second guard: an answer to another request (an issuer's bug, or an
// answer later than any window) must never reach t's acquirer.
//
//   - 0: the MTI is not t's response MTI (0110 for an 0100, ...).
//   - 2: field 2 is not the PAN sent (in 2, or in track 2 when 2 was
//     absent); 35: the answer's track 2 holds another PAN.
//   - 4: another amount; a partial approval (39 = 10) may carry a lower
//     amount of the same length.
//   - 37, 41: another RRN or terminal id.
//   - 90: another original data elements than the reversal's or
//     advice's (Txn.Original: stored by the switch, or relayed from an
//     acquirer): an 0430 acknowledges only the reversal it answers. An
//     answer without 90 is not refused for it (issuers often leave 90
//     out of an 0430): lenient on absence, strict on difference.
//
// A field is compared only where the answer carries it and the request
// had it. The comparisons read t.Frame at spans the switch recorded when
// it built t: no allocation, no second scan of the request.
func mismatch(t *Txn, v *iso.View) int {
	if !responseMTI(t.MTI[:], v.MTI()) {
		return 0
	}
	if f := panMismatch(t, v); f != matched {
		return f
	}
	if sent := t.Amount.In(t.Frame); sent != nil && v.Has(4) {
		got := v.Field(4)
		partial := string(v.Field(39)) == "10" && len(got) == len(sent) && bytes.Compare(got, sent) < 0
		if !bytes.Equal(got, sent) && !partial {
			return 4
		}
	}
	if t.HasRRN && v.Has(37) && !bytes.Equal(v.Field(37), t.RRN[:]) {
		return 37
	}
	if t.HasTID && v.Has(41) && !bytes.Equal(v.Field(41), t.Terminal[:]) {
		return 41
	}
	if sent := t.Original.In(t.Frame); sent != nil && v.Has(90) && !bytes.Equal(v.Field(90), sent) {
		return 90
	}
	return matched
}

// responseMTI reports whether got is an answer's MTI for the request MTI
// req: req's response MTI (0110 for 0100), or, for a repeat (0421, 0121),
// also the first attempt's (0430, 0130), which is how ISO 8583 and jPOS
// answer a repeat.
func responseMTI(req, got []byte) bool {
	want := iso.ResponseMTI(req)
	if bytes.Equal(got, want[:]) {
		return true
	}
	if want[3] == '1' {
		want[3] = '0'
		return bytes.Equal(got, want[:])
	}
	return false
}

// panMismatch compares the PAN an answer carries with the one sent.
func panMismatch(t *Txn, v *iso.View) int {
	sent := t.PAN.In(t.Frame)
	switch {
	case sent == nil:
	case v.Has(2):
		if !bytes.Equal(v.Field(2), sent) {
			return 2
		}
	case v.Has(35):
		if !bytes.Equal(iso.PANFromTrack2(v.Field(35)), sent) {
			return 35
		}
	}
	return matched
}
