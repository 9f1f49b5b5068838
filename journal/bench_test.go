//go:build unix

package journal

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkAppend measures sustained group-commit throughput: b.N entries
// appended and committed (Flush included). Entries are built before the
// timer so allocs/op is the journal's own cost per entry.
func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		name      string
		sync      string
		appenders int
		waiter    bool
		random    bool // random RRNs and STANs, as from many terminals (sampleEntry's are sequential)
	}{
		{"normal/1appender", "normal", 1, false, false},
		{"normal/8appenders+waiter", "normal", 8, true, false},
		{"full/8appenders+waiter", "full", 8, true, false},
		{"normal/random-keys", "normal", 1, false, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			j, _ := openTemp(b, Options{Sync: bc.sync})
			es := make([]*Entry, b.N)
			rnd := rand.New(rand.NewPCG(1, 2))
			for i := range es {
				es[i] = sampleEntry(i)
				if bc.random {
					es[i].STAN = fmt.Sprintf("%06d", rnd.IntN(1e6))
					es[i].RRN = fmt.Sprintf("%012d", rnd.Int64N(1e12))
				}
			}
			var w Waiter
			var notified atomic.Int64
			if bc.waiter {
				w = waiterFunc(func(*Entry, error) { notified.Add(1) })
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			appendConcurrently(j, es, w, bc.appenders)
			if err := j.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
			// Process CPU (all goroutines, user+sys) per entry: the switch's real cost.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/entry")
			if bc.waiter && notified.Load() != int64(b.N) {
				b.Fatal(fmt.Sprintf("notified %d of %d", notified.Load(), b.N))
			}
		})
	}
}

// BenchmarkStageCommit is the switch's path: entries encoded by
// AppendBody, staged by one goroutine (an issuer link's reader) and
// committed in batches of 16 by another (an acquirer connection's writer,
// before it sends the answers), as under load.
func BenchmarkStageCommit(b *testing.B) {
	j, _ := openTemp(b, Options{})
	bodies := make([][]byte, 1024)
	for i := range bodies {
		bodies[i] = encoded(b, sampleEntry(i+1))
	}
	tickets := make(chan Ticket, 64)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		for t := range tickets {
			j.Commit(t)
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		t, err := j.Stage(bodies[i%len(bodies)])
		if err != nil {
			b.Fatal(err)
		}
		if i%16 == 15 || i == b.N-1 {
			tickets <- t
		}
	}
	close(tickets)
	<-committed
	if err := j.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/entry")
}

// BenchmarkEncodeFields is what StageFields does for one answer besides
// taking the stage's lock: the PAN and size check, the key hashes, the
// record's encoding and its CRC. It sizes what a fixed-layout record could
// save (the encoding without the CRC is the "body" case).
func BenchmarkEncodeFields(b *testing.B) {
	f := fieldsOf(sampleEntry(123456))
	buf := make([]byte, 0, 1024)
	b.Run("stage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := checkFields(&f); err != nil {
				b.Fatal(err)
			}
			sinkKeys = fieldKeys(&f)
			buf = seal(appendBody(appendHead(buf[:0], 7), &f), 0)
		}
	})
	b.Run("body", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = appendBody(appendHead(buf[:0], 7), &f)
		}
	})
	var r record
	if _, err := nextRecord(seal(appendBody(appendHead(buf[:0], 7), &f), 0), &r); err != nil {
		b.Fatal(err) // what was measured is a valid record
	}
}

var sinkKeys recKeys

func appendConcurrently(j *Journal, es []*Entry, w Waiter, n int) {
	var next atomic.Int64
	done := make(chan struct{})
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := next.Add(1) - 1; i < int64(len(es)); i = next.Add(1) - 1 {
				j.Append(es[i], w)
			}
		}()
	}
	for range n {
		<-done
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStageSent is the in-flight record of every relayed request
// (StageSent), staged and committed in batches of 16, closed as its
// answer would: without a PAN, and with one sealed (one AES-GCM seal);
// "prepared" is the sealed one as the switch stages it (encoded and
// sealed before the link's lock by PrepareSent, staged under it by
// StagePrepared).
func BenchmarkStageSent(b *testing.B) {
	pan := []byte("4761739001010119")
	var p PreparedSent
	for _, tc := range []struct {
		name  string
		pan   []byte
		stage func(j *Journal, s *Sent, i int) (Ticket, uint32, error)
	}{
		{"pan=none", nil, func(j *Journal, s *Sent, _ int) (Ticket, uint32, error) { return j.StageSent(s) }},
		{"pan=sealed", pan, func(j *Journal, s *Sent, _ int) (Ticket, uint32, error) { return j.StageSent(s) }},
		{"prepared", pan, func(j *Journal, s *Sent, i int) (Ticket, uint32, error) {
			if err := j.PrepareSent(&p, s); err != nil {
				return 0, 0, err
			}
			return j.StagePrepared(&p, uint32(i)) // #nosec G115 -- a benchmark's counter
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			j, _ := openTemp(b, Options{})
			s := sentSample("000001", 1)
			s.PAN = tc.pan
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				t, seq, err := tc.stage(j, s, i)
				if err != nil {
					b.Fatal(err)
				}
				j.StageDone(seq)
				if i%16 == 15 || i == b.N-1 {
					j.Commit(t)
				}
			}
			if err := j.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkFollow is the switch's path (StageFields, committed in
// batches of 16) and what indexing its entries costs, per entry: with the
// indexer running beside it ("indexed": the process's CPU until Flush),
// and with the indexer paused while the entries are written, then
// released to read them back from the log ("paused": path-cpu-µs/entry is
// what the answers' side paid, readback-cpu-µs/entry the indexing after).
func BenchmarkFollow(b *testing.B) {
	fs := make([]Fields, 1024)
	for i := range fs {
		fs[i] = fieldsOf(sampleEntry(i + 1))
		fs[i].Time = time.Now() // within IndexLagMax: reading back is paced as under a peak
	}
	for _, paused := range []bool{false, true} {
		name := "indexed"
		if paused {
			name = "paused"
		}
		b.Run(name, func(b *testing.B) {
			gate := make(chan struct{})
			if !paused {
				close(gate)
			}
			j, _ := openTemp(b, Options{IndexGate: gate})
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			var t Ticket
			for i := range b.N {
				var err error
				if t, err = j.StageFields(&fs[i%len(fs)]); err != nil {
					b.Fatal(err)
				}
				if i%16 == 15 {
					j.Commit(t)
				}
			}
			j.Commit(t)
			cpu1 := cpuTime()
			if paused {
				close(gate)
			}
			if err := j.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			n := float64(b.N)
			if paused {
				b.ReportMetric(float64((cpu1-cpu0).Microseconds())/n, "path-cpu-µs/entry")
				b.ReportMetric(float64((cpuTime()-cpu1).Microseconds())/n, "readback-cpu-µs/entry")
				return
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/n, "cpu-µs/entry")
		})
	}
}
