package journal

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkQuery measures what an operator waits for: lookups in a journal
// of a million entries with random RRNs and STANs, in batch rows as the
// indexer writes them.
func BenchmarkQuery(b *testing.B) {
	const n = 1_000_000
	j, _ := openTemp(b, Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	rrns := make([]string, n+1)
	for i := 1; i <= n; i++ {
		e := sampleEntry(i)
		e.RRN, e.STAN = fmt.Sprintf("%012d", rng.Uint64N(1e12)), fmt.Sprintf("%06d", rng.Uint64N(1e6))
		rrns[i] = e.RRN
		j.Append(e, nil)
	}
	require.NoError(b, j.Flush(context.Background()))
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		run  func(i int) error
	}{
		{"get", func(i int) error { _, err := j.Get(ctx, int64(1+i%n)); return err }},
		{"rrn-newest", func(int) error { return want1(j.List(ctx, Filter{RRN: rrns[n], Limit: 1})) }},
		{"rrn-any", func(i int) error { return want1(j.List(ctx, Filter{RRN: rrns[1+i*7919%n], Limit: 1})) }},
		{"rrn-absent", func(int) error { return want0(j.List(ctx, Filter{RRN: "absent"})) }},
		{"list-newest-100", func(int) error { return wantN(j.List(ctx, Filter{}))(100) }},
		{"issuer-rare", func(int) error { return want0(j.List(ctx, Filter{Issuer: "nobody"})) }},
		{"since-1m", func(int) error {
			_, err := j.List(ctx, Filter{Since: t0.Add(n*time.Second - time.Minute)})
			return err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if err := bc.run(i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func want1(es []Entry, err error) error { return wantN(es, err)(1) }
func want0(es []Entry, err error) error { return wantN(es, err)(0) }

func wantN(es []Entry, err error) func(int) error {
	return func(n int) error {
		if err == nil && len(es) != n {
			err = fmt.Errorf("%d entries, want %d", len(es), n)
		}
		return err
	}
}
