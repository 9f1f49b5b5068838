package iso

import (
	"encoding/hex"
	"testing"
)

// benchTranslate measures one direction for each translated built-in
// dialect, the fast path (the public method) against moov's full unpack
// and pack, on jPOS's 0110 answer (the 0100 request's fields plus 38, 39).
func benchTranslate(b *testing.B, toCanon bool) {
	fixClock(b)
	var canon []byte
	for _, f := range readJPOSFrames(b) {
		if f.Dialect == "iso87ascii" && f.Name == "0110-auth-response" {
			canon, _ = hex.DecodeString(f.Hex)
		}
	}
	for _, name := range translatedDialects {
		tr := translatorFor(b, name)
		var c Carry
		msg := canon
		if toCanon {
			w, err := tr.FromCanon(nil, canon, &c)
			if err != nil {
				b.Fatal(err)
			}
			msg = w
		}
		buf := make([]byte, 0, 4096)
		b.Run(name+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if _, err := tr.run(buf[:0], msg, &c, toCanon); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
		b.Run(name+"/moov", func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if _, err := tr.moov(buf[:0], msg, &c, toCanon); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

func BenchmarkTranslateToCanon(b *testing.B)   { benchTranslate(b, true) }
func BenchmarkTranslateFromCanon(b *testing.B) { benchTranslate(b, false) }
