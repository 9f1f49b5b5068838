package trace

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/cardswitch/cardswitch/iso"
)

// Generator defaults.
const (
	// DefaultGenCount is the number of messages when GenOptions.Count is 0.
	DefaultGenCount = 1000
	// DefaultMinAmount and DefaultMaxAmount bound amounts (minor units)
	// when both are 0: 1.00 to 500.00, under the demo issuers' decline limit.
	DefaultMinAmount = 100
	DefaultMaxAmount = 50000
	// genPANLength is the length of generated card numbers.
	genPANLength = 16
	// maxSTAN is the largest STAN (field 11, n6); 0 is not used.
	maxSTAN = 999999
)

// DefaultBINs are the card prefixes used when GenOptions.BINs is empty.
var DefaultBINs = []string{"411111", "510510", "222300"}

// GenOptions configures Generate. Zero values take the defaults.
type GenOptions struct {
	BINs      []string  // card prefixes, 1..15 digits; default DefaultBINs
	MinAmount int64     // smallest amount (field 4, minor units); with MaxAmount 0: DefaultMinAmount
	MaxAmount int64     // largest amount; 0: DefaultMaxAmount (or MinAmount when that is larger)
	Count     int       // number of messages; 0: DefaultGenCount
	Seed      int64     // same seed and options, same trace (0 is a seed like any other)
	Start     time.Time // local transaction time of the first message (fields 7, 12, 13); zero: now
}

// Validate reports options Generate cannot use.
func (o GenOptions) Validate() error {
	for _, b := range o.BINs {
		if b == "" || len(b) >= genPANLength || !isDigits(b) {
			return fmt.Errorf("BIN %q: want 1 to %d digits", b, genPANLength-1)
		}
	}
	switch {
	case o.Count < 0:
		return errors.New("count must not be negative")
	case o.MinAmount < 0 || o.MaxAmount < 0:
		return errors.New("amounts must not be negative")
	case o.MaxAmount != 0 && o.MaxAmount < o.MinAmount:
		return fmt.Errorf("max amount %d is below min amount %d", o.MaxAmount, o.MinAmount)
	case o.MaxAmount > 999999999999:
		return errors.New("max amount exceeds 12 digits")
	}
	return nil
}

func (o GenOptions) withDefaults() GenOptions {
	if len(o.BINs) == 0 {
		o.BINs = DefaultBINs
	}
	if o.Count == 0 {
		o.Count = DefaultGenCount
	}
	if o.MinAmount == 0 && o.MaxAmount == 0 {
		o.MinAmount, o.MaxAmount = DefaultMinAmount, DefaultMaxAmount
	}
	o.MaxAmount = max(o.MaxAmount, o.MinAmount)
	if o.Start.IsZero() {
		o.Start = time.Now()
	}
	return o
}

// Generate returns realistic 0100 authorization requests: Luhn-valid
// 16-digit PANs over the BINs, uniform amounts, STANs unique within every
// 999,999 consecutive messages, unique RRNs, fields 3, 7, 12, 13, 18, 22,
// 41, 42 and 49. At is NoTiming and Expect is empty (the generator cannot
// know the target's routes). It panics when o.Validate fails: callers
// taking options from users validate first.
func Generate(o GenOptions) []Message {
	if err := o.Validate(); err != nil {
		panic("trace.Generate: " + err.Error())
	}
	o = o.withDefaults()
	g, err := newGen(o)
	if err != nil {
		panic("trace.Generate: " + err.Error())
	}
	msgs := make([]Message, o.Count)
	for i := range msgs {
		frame, err := g.message(i)
		if err != nil {
			// Every value is built to fit the spec: a failure is a bug here.
			panic("trace.Generate: " + err.Error())
		}
		msgs[i] = Message{Frame: frame, At: NoTiming, Line: i + 1}
	}
	return msgs
}

// gen holds the per-trace random state and a packed template: each
// message is the template with its varying fields overwritten in place,
// so generating a million requests costs no moov pack per message.
type gen struct {
	o        GenOptions
	rnd      *rand.Rand
	stanBase int
	rrnBase  int64
	terms    []string
	template []byte
	sc       *iso.Scanner
	v        iso.View
}

// templateFields are the constant fields of a generated request, plus
// placeholders of the right length for the varying ones.
var templateFields = []struct {
	id int
	v  string
}{
	{0, "0100"}, {2, "4000000000000002"}, {3, "000000"}, {4, "000000000000"},
	{7, "0101000000"}, {11, "000001"}, {12, "000000"}, {13, "0101"}, {18, "5411"},
	{22, "051"}, {37, "000000000000"}, {41, "T0000000"}, {42, "MERCHANT1000000"}, {49, "840"},
}

func newGen(o GenOptions) (*gen, error) {
	rnd := rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed)) // #nosec G115 G404 -- test data, not secrets
	g := &gen{o: o, rnd: rnd, stanBase: rnd.IntN(maxSTAN), rrnBase: rnd.Int64N(1e11)}
	for range 8 {
		g.terms = append(g.terms, fmt.Sprintf("T%07d", rnd.IntN(1e7)))
	}
	b := newBuilder(iso.Spec87())
	for _, f := range templateFields {
		if err := b.setText(f.id, f.v); err != nil {
			return nil, err
		}
	}
	var err error
	if g.template, err = b.pack(); err != nil {
		return nil, err
	}
	g.sc, err = iso.NewScanner(iso.Spec87())
	return g, err
}

// message returns request i.
func (g *gen) message(i int) ([]byte, error) {
	o, rnd := g.o, g.rnd
	bin := o.BINs[rnd.IntN(len(o.BINs))]
	amount := o.MinAmount + rnd.Int64N(o.MaxAmount-o.MinAmount+1)
	// 50 ms apart: the local times of a busy terminal population.
	t := o.Start.Add(time.Duration(i) * 50 * time.Millisecond)
	term := rnd.IntN(len(g.terms))
	frame := slices.Clone(g.template)
	if err := g.sc.Scan(frame, &g.v); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		id int
		v  string
	}{
		{2, LuhnComplete(bin, genPANLength, rnd)},
		{4, fmt.Sprintf("%012d", amount)},
		{7, t.UTC().Format("0102150405")},
		{11, fmt.Sprintf("%06d", (g.stanBase+i)%maxSTAN+1)},
		{12, t.Format("150405")},
		{13, t.Format("0102")},
		{37, fmt.Sprintf("%012d", (g.rrnBase+int64(i))%1e12)},
		{41, g.terms[term]},
		{42, "MERCHANT" + strconv.Itoa(1000000+term)},
	} {
		if err := g.v.Set(f.id, []byte(f.v)); err != nil {
			return nil, err
		}
	}
	return frame, nil
}
