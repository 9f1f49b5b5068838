package journal

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/internal/pgtest"
)

// BenchmarkPGGroupWrite is a transaction's two waits on the PostgreSQL
// journal, as the switch makes them: its in-flight record and duplicate
// claim committed (StageSent, Commit), then its entry, closing the record
// (StageFields, Commit). ns/op is per transaction; times the goroutines
// it is a transaction's time (Little's law). 2 goroutines (GOMAXPROCS
// 2): writes of one or two transactions, the round trips laid bare; 32:
// group writes of several, as under load.
func BenchmarkPGGroupWrite(b *testing.B) {
	for _, par := range []int{1, 16} {
		b.Run(fmt.Sprintf("goroutines=%d", par*runtime.GOMAXPROCS(0)), func(b *testing.B) { benchPGGroupWrite(b, par) })
	}
}

func benchPGGroupWrite(b *testing.B, parallelism int) {
	dsn := pgtest.DSN(b)
	p, err := OpenPG(context.Background(), dsn, PGOptions{Node: "bench", Keys: testKeys, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	var n atomic.Int64
	at := time.Now()
	b.SetParallelism(parallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			stan := fmt.Sprintf("%06d", i%1000000)
			rrn := fmt.Sprintf("%012d", i)
			s := &Sent{Time: at, Issuer: "bank-a", LinkSTAN: uint32(i), MTI: []byte("0100"), PAN: []byte("4111111111111111")}
			s.Claim = AppendClaimKey(nil, "acq", []byte("010"), []byte(stan), []byte("TERM0001"), []byte(rrn),
				[]byte("1207101010"))
			tk, seq, err := p.StageSent(s)
			if err != nil {
				b.Error(err)
				return
			}
			p.Commit(tk)
			if err := p.ClaimResult(seq); err != nil {
				b.Error(err)
				return
			}
			f := Fields{Time: at, Issuer: "bank-a", Acquirer: "acq", MTI: []byte("0110"), STAN: []byte(stan),
				RRN: []byte(rrn), Terminal: []byte("TERM0001"), PAN: []byte("411111******1111"),
				ResponseCode: "00", Outcome: Approved, Closes: seq}
			tk, err = p.StageFields(&f)
			if err != nil {
				b.Error(err)
				return
			}
			p.Commit(tk)
		}
	})
}
