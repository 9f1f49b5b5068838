package switchd

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/internal/pan"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
)

// fuzzPAN is the card FuzzJournalNoPAN hides in its frames. Each of its
// 12-digit windows is significant (iso.SharesPANDigits).
const fuzzPAN = "4761739001010119"

// fuzzTemplate is a valid request's fields, the card in 2, 35 and 45, in
// wire order; a frame carries some of them.
var fuzzTemplate = [...]struct {
	id  int
	val string
}{
	{2, fuzzPAN}, {3, "000000"}, {4, "000000001000"}, {7, "1126043000"}, {11, "000042"}, {12, "043000"},
	{13, "1126"}, {22, "051"}, {35, fuzzPAN + "=2512101000012345"}, {37, "000000000042"}, {41, "TERM0001"},
	{42, "MERCHANT0000001"}, {45, "B" + fuzzPAN + "^SMITH/JOHN^2512101"}, {49, "840"},
}

// fuzzRaw is each template field as on the wire (length prefix and data).
func fuzzRaw(t testing.TB, sc *iso.Scanner) (raw [len(fuzzTemplate)][]byte) {
	m := iso.NewMessage(iso.Spec87())
	m.MTI("0100")
	for _, f := range fuzzTemplate {
		if err := m.Field(f.id, f.val); err != nil {
			t.Fatal(err)
		}
	}
	frame, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var v iso.View
	if err := sc.Scan(frame, &v); err != nil {
		t.Fatal(err)
	}
	for i, f := range fuzzTemplate {
		raw[i] = v.Raw(f.id)
	}
	return raw
}

// FuzzJournalNoPAN builds requests that carry a known card in 2, 35 and/or
// 45, with some of the other fields of a valid request, under a bitmap
// that need not describe them (flip: bits toggled in the true bitmap),
// with non-digit junk inserted and bytes cut out. Each frame goes through
// what the switch does with a request's bytes before they are journaled:
// the lenient scan, screened (the outcome: refused or not, and the spans
// of the entry) and entry (the entry's columns, as every journaled
// answer builds them), then journal.AppendBody. No column but pan may hold
// 12 consecutive digits of the card, and pan holds at most its masked
// form.
//
// The frame keeps every byte of the card data it carries: junk has no
// digits and a cut never removes a track separator. The guard looks for
// the card where a frame carries one (2, 35, 45 as scanned, or before a
// track separator); a sender that writes the card number as an amount and
// other digits as the PAN sends a well-formed request that no check could
// tell from a genuine one.
func FuzzJournalNoPAN(f *testing.F) {
	const all = 1<<len(fuzzTemplate) - 1
	track2 := uint16(1 << 8)
	f.Add(uint8(0), uint16(all), uint64(0), uint16(0), []byte(nil), uint16(0), uint8(0))
	f.Add(uint8(0), uint16(all&^1), uint64(0), uint16(0), []byte(nil), uint16(0), uint8(0))
	f.Add(uint8(0), uint16(all), uint64(1<<62), uint16(0), []byte(nil), uint16(0), uint8(0)) // the issue's: bit 2 clear
	f.Add(uint8(2), uint16(1|1<<4|track2), uint64(1<<62|1<<(64-37)), uint16(0), []byte("  "), uint16(0), uint8(2))
	f.Add(uint8(1), uint16(all), uint64(1<<63), uint16(3), []byte("X"), uint16(20), uint8(1)) // a secondary bitmap from the body
	f.Add(uint8(3), uint16(0x1fff), uint64(1<<(64-35)), uint16(40), []byte("?"), uint16(7), uint8(3))
	// Two that pass every content check: a reversal whose track 2 (its
	// length prefix cut) scans as the RRN, with field 2 carrying the card;
	// and one whose field 2 is read from field 12's bytes ("04" "3000"),
	// its track then scanning as 11, the RRN, 39 and 42: only the digits
	// before the track's "=" name the card.
	f.Add(uint8(2), uint16(1|1<<4|track2), uint64(1<<(64-35)|1<<(64-37)|1<<(64-38)|1<<(64-42)),
		uint16(0), []byte(nil), uint16(24), uint8(2))
	f.Add(uint8(2), uint16(1<<5|track2), uint64(1<<(64-2)|1<<(64-11)|1<<(64-12)|1<<(64-35)|1<<(64-37)|1<<(64-39)|1<<(64-42)),
		uint16(0), []byte(nil), uint16(0), uint8(0))
	sc, err := iso.NewScanner(iso.Spec87())
	if err != nil {
		f.Fatal(err)
	}
	raw := fuzzRaw(f, sc)
	c := &acqConn{s: snapSwitch(), lst: &listener{}, id: 1, acquirer: "acq", remote: "127.0.0.1:1"}
	f.Fuzz(func(t *testing.T, mtiSel uint8, onWire uint16, flip uint64, junkAt uint16, junk []byte, cutAt uint16, cutN uint8) {
		frame := fuzzFrame(&raw, mtiSel, onWire, flip, junkAt, junk, cutAt, cutN)
		var v iso.View
		scanErr := sc.ScanLenient(frame, &v)
		if v.MTI() == nil || !iso.IsRequestMTI(v.MTI()) {
			return // not answered, not journaled
		}
		sp, reason := screened(&v, scanErr)
		code := CodeApproved
		if reason != "" {
			code = CodeFormatError
		}
		var masked [pan.MaxLen]byte
		fl := c.entry(&answer{frame: frame, spans: sp, started: time.Unix(1700000000, 0), latency: time.Millisecond,
			issuer: "bank", code: code, outcome: journal.Approved, reason: reason}, &masked)
		if _, err := journal.AppendBody(nil, &fl); err != nil {
			t.Fatalf("entry refused by the journal: %v", err)
		}
		checkNoPAN(t, &fl, &v)
	})
}

// fuzzFrame assembles FuzzJournalNoPAN's frame.
func fuzzFrame(raw *[len(fuzzTemplate)][]byte, mtiSel uint8, onWire uint16, flip uint64,
	junkAt uint16, junk []byte, cutAt uint16, cutN uint8) []byte {
	if onWire&(1|1<<8|1<<12) == 0 {
		onWire |= 1 // the card is always on the wire
	}
	var bitmap uint64
	var body []byte
	for i, f := range fuzzTemplate {
		if onWire&(1<<i) != 0 {
			bitmap |= 1 << (64 - f.id)
			body = append(body, raw[i]...)
		}
	}
	clean := make([]byte, 0, len(junk))
	for _, b := range junk {
		if b >= '0' && b <= '9' {
			b += 'A' - '0'
		}
		clean = append(clean, b)
	}
	at := int(junkAt) % (len(body) + 1)
	body = append(body[:at], append(clean, body[at:]...)...)
	if n := int(cutN % 8); n > 0 && len(body) > n {
		at := int(cutAt) % (len(body) - n)
		if !strings.ContainsAny(string(body[at:at+n]), "=^") {
			body = append(body[:at], body[at+n:]...)
		}
	}
	mti := [...]string{"0100", "0200", "0400", "0420"}[mtiSel%4]
	var bm [8]byte
	binary.BigEndian.PutUint64(bm[:], bitmap^flip)
	return append([]byte(mti+strings.ToUpper(hex.EncodeToString(bm[:]))), body...)
}

// checkNoPAN fails when a column of fl other than pan holds 12 digits of
// fuzzPAN, or pan more than a masked card.
func checkNoPAN(t *testing.T, fl *journal.Fields, v *iso.View) {
	t.Helper()
	cols := map[string][]byte{"mti": fl.MTI, "processing_code": fl.ProcessingCode, "amount": fl.Amount,
		"currency": fl.Currency, "stan": fl.STAN, "rrn": fl.RRN, "terminal": fl.Terminal,
		"transmission_time": fl.TransmissionTime, "reason": []byte(fl.Reason)}
	for name, col := range cols {
		for i := 0; i+iso.PANWindow <= len(fuzzPAN); i++ {
			if strings.Contains(string(col), fuzzPAN[i:i+iso.PANWindow]) {
				t.Fatalf("column %s holds digits %d-%d of the card (reason %q)", name, i+1, i+iso.PANWindow, fl.Reason)
			}
		}
	}
	if len(fl.PAN) == 0 {
		return
	}
	routing, _ := iso.RoutingPAN(v)
	if got, want := string(fl.PAN), iso.MaskPAN(routing); got != want {
		t.Fatalf("pan column %q, want the masked routing PAN %q", got, want)
	}
	if string(routing) == fuzzPAN && string(fl.PAN) != "476173******0119" {
		t.Fatalf("pan column %q is not the card masked", fl.PAN)
	}
}
