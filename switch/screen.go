package switchd

import (
	"strconv"

	"github.com/cardswitch/cardswitch/iso"
)

// screen decides whether a request scanned into v (scanErr the scan's
// error) may be handled: "" when it may, else why it is refused with 30.
// A refused request is journaled with its MTI, STAN and that reason only
// (refusedSpans). The reasons name fields and rules, never field values.
//
// screen's reasons come from the request's form; screened adds the guard
// on what its journal columns would hold (journalLeak).
func screen(v *iso.View, scanErr error) string {
	mti := v.MTI()
	switch {
	case scanErr != nil:
		return scanErr.Error()
	case mti[0] != '0':
		return "only ISO 8583:1987 (version 0) messages are accepted"
	case mti[1] == '8':
		return "" // network management: not journaled (netMgmt)
	case mti[1] == '1' || mti[1] == '2' || mti[1] == '4':
		pan, _ := iso.RoutingPAN(v)
		return checkMandatory(v, pan)
	}
	return "message class not supported"
}

// screened screens a request (screen) and returns the spans its journal
// entry is built from: all of entrySpanFields when it passed (reason ""),
// its MTI and STAN only when it is refused.
//
// Only a request that passes has its fields journaled: screened is the
// guard that keeps card data out of the journal's other columns, and it
// checks exactly the spans those columns are built from.
func screened(v *iso.View, scanErr error) (entrySpans, string) {
	if reason := screen(v, scanErr); reason != "" {
		return refusedSpans(v), reason
	}
	sp := requestSpans(v)
	if v.MTI()[1] == '8' {
		return sp, "" // network management: not journaled (netMgmt)
	}
	if reason := journalLeak(v, &sp); reason != "" {
		return refusedSpans(v), reason
	}
	return sp, ""
}

// mandatory lists the fields an authorization or financial request must
// carry besides a PAN (2, or 35 when 2 is absent).
var mandatory = [...]int{3, 4, 7, 11}

// checkMandatory names the first missing mandatory field, or the first
// field whose content is invalid (iso.CheckContent), "" if none.
// Reversals (x4xx) route like their originals and may omit all but the
// PAN and 11, but what they carry is checked all the same.
func checkMandatory(v *iso.View, pan []byte) string {
	if pan == nil {
		return "no PAN: field 2 absent and no usable track 2 (35)"
	}
	if !v.Has(11) {
		return missingField(11)
	}
	if v.MTI()[1] != '4' {
		for _, id := range mandatory {
			if !v.Has(id) {
				return missingField(id)
			}
		}
	}
	return contentReason(iso.CheckContent(v))
}

func missingField(id int) string {
	return "mandatory field " + strconv.Itoa(id) + " missing"
}

// contentReason is why iso.CheckContent refused field id ("" for 0).
func contentReason(id int) string {
	switch id {
	case 0:
		return ""
	case 3:
		return "field 3 (processing code): not a known transaction type and account types"
	case 4:
		return "field 4 (amount): not 12 digits"
	case 7:
		return "field 7 (transmission date and time): not a valid MMDDhhmmss"
	case 12:
		return "field 12 (local time): not a valid hhmmss"
	case 13:
		return "field 13 (local date): not a valid MMDD"
	case 49:
		return "field 49 (currency code): not a numeric currency code"
	}
	return "field " + strconv.Itoa(id) + ": invalid content"
}

// journalLeak is the last guard before a request's fields become journal
// columns: "" when none of the columns it would have (sp, spans of
// entrySpanFields; the PAN column is masked) holds card data, else why
// the request is refused. Card data there means a misaligned frame, whose
// bitmap omits a field whose bytes are present: PAN digits shifted into
// the amount or the RRN, a track's separator into the RRN or the terminal
// id. The card numbers looked for are those of 2, 35 and 45, whatever
// their content (a malformed field still carries the card's digits), and
// the digits before any track separator in the frame. A card number the
// frame carries in none of these forms (the switch cannot tell a PAN sent
// as an amount from an amount) is not looked for. It does not allocate.
func journalLeak(v *iso.View, sp *entrySpans) string {
	pans := [3][]byte{v.Field(2), iso.TrackPANDigits(v.Field(35)), iso.TrackPANDigits(v.Field(45))}
	frame, tracks := v.Frame(), v.Frame()
	// Most requests carry no track data: one look at the frame spares
	// looking for separators in each column.
	if !iso.HasTrackSeparator(frame) {
		tracks = nil
	}
	for i := range entrySpanFields {
		col := sp[i].In(frame)
		if tracks != nil && iso.HasTrackSeparator(col) {
			return leakReasons[i].separator
		}
		if len(col) >= iso.PANWindow && iso.SharesCardDigits(col, tracks, &pans) { // the amount and the RRN
			return leakReasons[i].pan
		}
	}
	return ""
}

// leakReasons are journalLeak's reasons for each of entrySpanFields, built
// once: the guard runs for every request.
var leakReasons = func() (r [len(entrySpanFields)]struct{ pan, separator string }) {
	for i, id := range entrySpanFields {
		f := "field " + strconv.Itoa(id)
		r[i].pan = f + " holds " + strconv.Itoa(iso.PANWindow) + " or more digits of the card number: misaligned message"
		r[i].separator = f + " holds a track data separator ('=' or '^'): misaligned message"
	}
	return r
}()

// refusedSpans are the spans a refused request is journaled from: its MTI
// and STAN only.
func refusedSpans(v *iso.View) (sp entrySpans) {
	sp[spanMTI] = v.Span(0)
	sp[spanSTAN] = v.Span(11)
	return sp
}
