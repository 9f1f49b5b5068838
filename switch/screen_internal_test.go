package switchd

import (
	"testing"

	"github.com/cardswitch/cardswitch/iso"
)

// screenRequest is a request with every field the guard reads: the card in
// 2 (and in 35 with track), an amount and an RRN of 12 digits.
func screenRequest(tb testing.TB, track bool) (*iso.Scanner, []byte) {
	tb.Helper()
	sc, err := iso.NewScanner(iso.Spec87())
	if err != nil {
		tb.Fatal(err)
	}
	m := iso.NewMessage(iso.Spec87())
	m.MTI("0100")
	fields := map[int]string{2: fuzzPAN, 3: "000000", 4: "000000001000", 7: "1126043000", 11: "000042",
		12: "043000", 13: "1126", 37: "333012345678", 41: "TERM0001", 49: "840"}
	if track {
		fields[35] = fuzzPAN + "=2512101000012345"
	}
	for id, val := range fields {
		if err := m.Field(id, val); err != nil {
			tb.Fatal(err)
		}
	}
	frame, err := m.Pack()
	if err != nil {
		tb.Fatal(err)
	}
	return sc, frame
}

// TestScreenDoesNotAllocate: screening a good request (the content checks
// and the card-data guard) costs no allocation.
func TestScreenDoesNotAllocate(t *testing.T) {
	for _, track := range []bool{false, true} {
		sc, frame := screenRequest(t, track)
		var v iso.View
		if err := sc.Scan(frame, &v); err != nil {
			t.Fatal(err)
		}
		if _, reason := screened(&v, nil); reason != "" {
			t.Fatalf("refused: %s", reason)
		}
		if n := testing.AllocsPerRun(100, func() { screened(&v, nil) }); n != 0 {
			t.Fatalf("track %v: %v allocations", track, n)
		}
	}
}

// BenchmarkScreen is what screening adds to each request, with the card in
// 2 only and in 2 and track 2.
func BenchmarkScreen(b *testing.B) {
	for _, track := range []bool{false, true} {
		b.Run(map[bool]string{false: "pan", true: "pan+track2"}[track], func(b *testing.B) {
			sc, frame := screenRequest(b, track)
			var v iso.View
			if err := sc.Scan(frame, &v); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				screened(&v, nil)
			}
		})
	}
}

// An unmatched issuer answer is journaled from its own fields: the same
// guard applies to them as to a request's. An answer whose RRN holds 12
// digits of its card number is journaled with its MTI and STAN only; a
// well-formed one with all its columns.
func TestUnmatchedAnswerColumnsScreened(t *testing.T) {
	sc, err := iso.NewScanner(iso.Spec87())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rrn  string
		full bool
	}{{"333012345678", true}, {fuzzPAN[:12], false}} {
		m := iso.NewMessage(iso.Spec87())
		m.MTI("0110")
		for id, val := range map[int]string{2: fuzzPAN, 3: "000000", 4: "000000001000", 7: "1126043000",
			11: "000042", 37: tc.rrn, 39: "00", 41: "TERM0001"} {
			if err := m.Field(id, val); err != nil {
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
		got := answerSpans(&v)
		if want := refusedSpans(&v); (got == want) == tc.full {
			t.Fatalf("RRN %q: spans %v, want full columns %v", tc.rrn, got, tc.full)
		}
		if !tc.full {
			continue
		}
		if rrn := got[spanRRN].In(frame); string(rrn) != tc.rrn {
			t.Fatalf("RRN column %q, want %q", rrn, tc.rrn)
		}
	}
}
