package iso

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"testing"
)

// translatedDialects are the built-ins whose messages are translated
// (the others are canonical).
var translatedDialects = []string{"iso87binary", "iso87ebcdic", "iso93ascii", "iso93binary"}

// fuzzTranslators are the translated built-ins and the user dialect of
// testdata/dialects/my-bank.json (EBCDIC and binary length prefixes).
var fuzzTranslators = sync.OnceValue(func() []*Translator {
	var out []*Translator
	for _, name := range translatedDialects {
		d, _ := LookupDialect(name)
		out = append(out, must(NewTranslator(d)))
	}
	raw, err := os.ReadFile("../testdata/dialects/my-bank.json")
	if err != nil {
		panic(err)
	}
	d, err := NewDialect("my-bank", raw, 1987, Framing{})
	if err != nil {
		panic(err)
	}
	return append(out, must(NewTranslator(d)))
})

func must(tr *Translator, err error) *Translator {
	if err != nil {
		panic(err)
	}
	return tr
}

func fuzzSeeds(f *testing.F) {
	for _, fr := range readJPOSFrames(f) {
		raw, err := hex.DecodeString(fr.Hex)
		if err != nil {
			f.Fatal(err)
		}
		for i, d := range append(translatedDialects, "my-bank") {
			if fr.Dialect == d || fr.Dialect == "iso87ascii" {
				f.Add(uint8(i), raw)
			}
		}
	}
}

// fuzzTranslate holds the fast path equal to moov's on one input: where
// the fast path decides (no errFastDecode), moov decides the same (the
// same bytes, the same Carry, or an error too); where it declines, the
// public method is moov's answer.
func fuzzTranslate(t *testing.T, sel uint8, msg []byte, toCanon bool) {
	trs := fuzzTranslators()
	tr := trs[int(sel)%len(trs)]
	var cf, cm, cp Carry
	st := &xstate{buf: make([]byte, 0, 16)}
	fast, ferr := tr.fast(st, nil, msg, &cf, toCanon)
	slow, serr := tr.moov(nil, msg, &cm, toCanon)
	pub, perr := tr.run(nil, msg, &cp, toCanon)
	if errors.Is(ferr, errFastDecode) {
		fast, ferr, cf = pub, perr, cp
	}
	if (ferr == nil) != (serr == nil) {
		t.Fatalf("%s toCanon=%v: fast err %v, moov err %v", tr.Dialect().Name, toCanon, ferr, serr)
	}
	if ferr == nil && (!bytes.Equal(fast, slow) || cf != cm) {
		t.Fatalf("%s toCanon=%v: fast %x != moov %x", tr.Dialect().Name, toCanon, fast, slow)
	}
	if !bytes.Equal(pub, fast) && ferr == nil {
		t.Fatalf("public path %x != fast %x", pub, fast)
	}
	if (perr == nil) != (ferr == nil) || ferr == nil && cp != cf {
		t.Fatalf("%s toCanon=%v: public err %v, fast err %v (or their Carry differs)", tr.Dialect().Name, toCanon, perr, ferr)
	}
	fuzzDirect(t, tr, msg, toCanon)
}

// fuzzDirect holds the plan's path equal to the value-by-value one: where
// it translates, that path translates to the same bytes and Carry; where
// it declines, it leaves its output and the Carry as they were.
func fuzzDirect(t *testing.T, tr *Translator, msg []byte, toCanon bool) {
	var start Carry
	start.req.mti = m("9999")
	fuzzDirectFrom(t, tr, msg, toCanon, start)
	for _, c := range goldenCarries(t)[tr.Dialect().Name] {
		fuzzDirectFrom(t, tr, msg, toCanon, c)
	}
}

// goldenCarries are, per 1993 dialect, the Carry a transaction of jPOS's
// frames leaves (request and answer halves, and the 90 sent as 56), so
// that the fuzzer reaches restore's choices.
var goldenCarries = func() func(t testing.TB) map[string][]Carry {
	var once sync.Once
	var out map[string][]Carry
	return func(t testing.TB) map[string][]Carry {
		once.Do(func() {
			out = map[string][]Carry{}
			frames := jposByName(t)
			for _, name := range []string{"iso93ascii", "iso93binary"} {
				tr := translatorFor(t, name)
				for _, pair := range [][3]string{{"1100-auth", "1110-auth-response", "0420-reversal-advice"},
					{"1804-echo", "1814-echo-response", "0420-reversal-advice"}} {
					var c Carry
					_, _ = tr.ToCanon(nil, frames[name][pair[0]], &c)
					_, _ = tr.ToCanon(nil, frames[name][pair[1]], &c)
					_, _ = tr.FromCanon(nil, frames["iso87ascii"][pair[2]], &c)
					out[name] = append(out[name], c)
				}
			}
		})
		return out
	}
}()

func fuzzDirectFrom(t *testing.T, tr *Translator, msg []byte, toCanon bool, start Carry) {
	cd, cf := start, start
	prefix := []byte("prefix")
	st := &xstate{buf: make([]byte, 0, 2*len(msg)+64)}
	dir, ok := tr.direct(st, prefix, msg, &cd, toCanon)
	fast, ferr := tr.fast(&xstate{buf: make([]byte, 0, 16)}, prefix, msg, &cf, toCanon)
	if !ok {
		if string(dir) != "prefix" || cd != start {
			t.Fatalf("%s toCanon=%v: declined but changed its output or the Carry", tr.Dialect().Name, toCanon)
		}
		return
	}
	if ferr != nil || !bytes.Equal(dir, fast) || cd != cf {
		t.Fatalf("%s toCanon=%v: direct %x, value path %x (err %v)", tr.Dialect().Name, toCanon, dir, fast, ferr)
	}
}

func FuzzTranslateToCanon(f *testing.F) {
	fuzzSeeds(f)
	fixClock(f)
	f.Fuzz(func(t *testing.T, sel uint8, msg []byte) { fuzzTranslate(t, sel, msg, true) })
}

func FuzzTranslateFromCanon(f *testing.F) {
	fuzzSeeds(f)
	fixClock(f)
	f.Fuzz(func(t *testing.T, sel uint8, msg []byte) { fuzzTranslate(t, sel, msg, false) })
}
