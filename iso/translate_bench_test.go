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

// BenchmarkTranslateTransaction is what a translated transaction costs
// the switch in translation alone: the acquirer's ToCanon of jPOS's 0100,
// the issuer's FromCanon of it, the issuer's ToCanon of its 0110 and the
// acquirer's FromCanon of that, with one Carry, as the switch's edges do.
// One op is one transaction (the four translations; two when the issuer
// is canonical).
func BenchmarkTranslateTransaction(b *testing.B) {
	fixClock(b)
	var req, resp []byte
	for _, f := range readJPOSFrames(b) {
		if f.Dialect != "iso87ascii" {
			continue
		}
		switch f.Name {
		case "0100-auth":
			req, _ = hex.DecodeString(f.Hex)
		case "0110-auth-response":
			resp, _ = hex.DecodeString(f.Hex)
		}
	}
	for _, pair := range [][2]string{
		{"iso87binary", "iso87ascii"}, {"iso87binary", "iso93ascii"},
		{"iso87ebcdic", "iso93binary"}, {"iso93ascii", "iso93binary"},
	} {
		acq, iss := translatorFor(b, pair[0]), translatorFor(b, pair[1])
		acqReq, err := acq.FromCanon(nil, req, nil)
		if err != nil {
			b.Fatal(err)
		}
		issResp, err := iss.FromCanon(nil, resp, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(pair[0]+"-"+pair[1], func(b *testing.B) {
			var bufs [4][]byte
			var c Carry
			for i := range bufs {
				bufs[i] = make([]byte, 0, 4096)
			}
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if err := translateTx(acq, iss, &c, &bufs, acqReq, issResp); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// translateTx is one transaction's translations; a canonical issuer's
// are none.
func translateTx(acq, iss *Translator, c *Carry, bufs *[4][]byte, acqReq, issResp []byte) error {
	*c = Carry{}
	canon, err := acq.ToCanon(bufs[0][:0], acqReq, c)
	if err != nil {
		return err
	}
	ans := issResp
	if !iss.Dialect().Canonical() {
		if _, err = iss.FromCanon(bufs[1][:0], canon, c); err != nil {
			return err
		}
		if ans, err = iss.ToCanon(bufs[2][:0], issResp, c); err != nil {
			return err
		}
	}
	_, err = acq.FromCanon(bufs[3][:0], ans, c)
	return err
}
