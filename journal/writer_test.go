package journal

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendCommitsAndNotifiesInOrder(t *testing.T) {
	j, _ := openTemp(t, Options{BatchMax: 7})
	rec := &recorder{}
	es := appendAll(t, j, 100, rec)

	calls := rec.snapshot()
	require.Len(t, calls, 100)
	for i, c := range calls {
		require.NoError(t, c.err)
		assert.Same(t, es[i], c.e, "notified in Append order")
		assert.Equal(t, int64(i+1), c.id)
	}
	assert.Equal(t, 0, j.Lag())
	got, err := j.Get(context.Background(), 42)
	require.NoError(t, err)
	assert.Equal(t, *es[41], got)
}

// TestWaiterSeesDurableEntry: when the waiter hears of an entry, its
// record is in the log file (what a restart indexes); after Flush, another
// connection finds it in SQLite.
func TestWaiterSeesDurableEntry(t *testing.T) {
	j, path := openTemp(t, Options{})
	ro, err := OpenReadOnly(path)
	require.NoError(t, err)
	defer ro.Close()
	seen := make(chan error, 1)
	want := sampleEntry(1)
	j.Append(want, waiterFunc(func(e *Entry, err error) {
		if err == nil {
			err = inLog(path, *e)
		}
		seen <- err
	}))
	require.NoError(t, <-seen)
	require.NoError(t, j.Flush(context.Background()))
	got, err := ro.Get(context.Background(), want.ID)
	require.NoError(t, err)
	assert.Equal(t, *want, got)
}

// inLog reports whether the log holds a record equal to e.
func inLog(path string, e Entry) error {
	segs, err := filepath.Glob(path + logSuffix + "/*" + segExt)
	if err != nil {
		return err
	}
	for _, s := range segs {
		b, err := os.ReadFile(s)
		if err != nil {
			return err
		}
		var r record
		for off := 0; off < len(b); {
			n, err := nextRecord(b[off:], &r)
			if err != nil || n == 0 {
				return fmt.Errorf("%s: bad record at %d", s, off)
			}
			if got := entryOf(&r); got == e {
				return nil
			}
			off += n
		}
	}
	return fmt.Errorf("entry %d not in the log", e.ID)
}

type waiterFunc func(*Entry, error)

func (f waiterFunc) Journaled(e *Entry, err error) { f(e, err) }

func TestCloseFlushesAndReopenKeepsData(t *testing.T) {
	j, path := openTemp(t, Options{})
	rec := &recorder{}
	for i := 1; i <= 500; i++ {
		j.Append(sampleEntry(i), rec)
	}
	require.NoError(t, j.Close())
	assert.Len(t, rec.snapshot(), 500, "Close notifies every waiter")

	j2, err := Open(path, Options{})
	require.NoError(t, err)
	defer j2.Close()
	es, err := j2.List(context.Background(), Filter{Limit: 1000})
	require.NoError(t, err)
	require.Len(t, es, 500)
	assert.Equal(t, *func() *Entry { e := sampleEntry(500); e.ID = 500; return e }(), es[0])

	j2.Append(sampleEntry(501), rec)
	require.NoError(t, j2.Flush(context.Background()))
	assert.Equal(t, int64(501), rec.snapshot()[500].id, "ids continue after reopen")
}

func TestAppendAfterClose(t *testing.T) {
	j, _ := openTemp(t, Options{})
	require.NoError(t, j.Close())
	require.NoError(t, j.Close(), "Close is idempotent")
	rec := &recorder{}
	j.Append(sampleEntry(1), rec)
	require.Len(t, rec.snapshot(), 1)
	assert.ErrorIs(t, rec.snapshot()[0].err, ErrClosed)
	assert.ErrorIs(t, j.Flush(context.Background()), ErrClosed)
}

func TestPANGuard(t *testing.T) {
	tests := []struct {
		name, pan string
		wantErr   string
	}{
		{"masked", "411111******1111", ""},
		{"empty", "", ""},
		{"short masked", "123456***7890", ""},
		{"clear 16 digits", "4111111111111111", "journal: field 2 (pan) has more than 10 digits: not masked, refused"},
		{"11 digits with gaps", "411111*11111", "journal: field 2 (pan) has more than 10 digits: not masked, refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, _ := openTemp(t, Options{})
			rec := &recorder{}
			e := sampleEntry(1)
			e.PAN = tt.pan
			j.Append(e, rec)
			j.Append(sampleEntry(2), rec) // a good neighbour in the same batch still commits
			require.NoError(t, j.Flush(context.Background()))
			calls := rec.snapshot()
			require.Len(t, calls, 2)
			require.NoError(t, calls[1].err)
			es, err := j.List(context.Background(), Filter{})
			require.NoError(t, err)
			if tt.wantErr == "" {
				require.NoError(t, calls[0].err)
				assert.Len(t, es, 2)
				return
			}
			require.EqualError(t, calls[0].err, tt.wantErr)
			var fe *FieldError
			require.ErrorAs(t, calls[0].err, &fe)
			assert.Equal(t, 2, fe.Field)
			assert.NotContains(t, calls[0].err.Error(), tt.pan)
			assert.Zero(t, calls[0].id)
			require.Len(t, es, 1, "the clear PAN is never stored")
			assert.Equal(t, "000002", es[0].STAN)
		})
	}
}

func TestFlushHonoursContext(t *testing.T) {
	j, _ := openTemp(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Either the marker was queued and the wait sees ctx, or the send did: both are ctx errors.
	assert.ErrorIs(t, j.Flush(ctx), context.Canceled)
}

func TestLagCountsQueued(t *testing.T) {
	j, _ := openTemp(t, Options{})
	block := make(chan struct{})
	entered := make(chan struct{})
	j.Append(sampleEntry(1), waiterFunc(func(*Entry, error) { close(entered); <-block }))
	<-entered // the writer is parked in our waiter: further appends stay queued
	for i := 2; i <= 11; i++ {
		j.Append(sampleEntry(i), nil)
	}
	assert.Equal(t, 11, j.Lag(), "10 queued, and entry 1: durable but not yet indexed")
	close(block)
	require.NoError(t, j.Flush(context.Background()))
	assert.Equal(t, 0, j.Lag())
}

func TestOptionsValidation(t *testing.T) {
	_, err := Open(t.TempDir()+"/x.db", Options{Sync: "off"})
	require.EqualError(t, err, `journal: Options.Sync "off": want normal or full`)
	j, _ := openTemp(t, Options{Sync: "full"})
	appendAll(t, j, 3, nil)
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	j, path := openTemp(t, Options{})
	appendAll(t, j, 2, nil)
	ro, err := OpenReadOnly(path)
	require.NoError(t, err)
	defer ro.Close()
	rec := &recorder{}
	ro.Append(sampleEntry(3), rec)
	assert.ErrorIs(t, rec.snapshot()[0].err, ErrReadOnly)
	_, err = ro.AddReversal(context.Background(), &Reversal{})
	assert.ErrorIs(t, err, ErrReadOnly)
	es, err := ro.List(context.Background(), Filter{})
	require.NoError(t, err)
	assert.Len(t, es, 2)
}

// TestOversizedEntryRefused: an entry whose record could not be read back
// is refused before it is written, never acknowledged and lost later.
func TestOversizedEntryRefused(t *testing.T) {
	j, _ := openTemp(t, Options{})
	rec := &recorder{}
	e := sampleEntry(1)
	e.Reason = strings.Repeat("x", maxEntryText)
	j.Append(e, rec)
	j.Append(sampleEntry(2), rec)
	require.NoError(t, j.Flush(context.Background()))
	calls := rec.snapshot()
	require.Len(t, calls, 2)
	require.ErrorContains(t, calls[0].err, "journal: entry ")
	require.ErrorContains(t, calls[0].err, "bytes of text, more than")
	require.NoError(t, calls[1].err)
	es, err := j.List(context.Background(), Filter{})
	require.NoError(t, err)
	assert.Len(t, es, 1)
}

// TestFlushLogDoesNotWaitForTheIndexer: FlushLog returns once the waiters
// were told, while the indexer is still busy with the batch.
func TestFlushLogDoesNotWaitForTheIndexer(t *testing.T) {
	j, path := openTemp(t, Options{})
	// Hold SQLite's write lock from another connection: the indexer
	// cannot commit until it is released.
	other, err := sql.Open("sqlite", writeDSN(path, "normal"))
	require.NoError(t, err)
	defer other.Close()
	tx, err := other.Begin()
	require.NoError(t, err)
	_, err = tx.Exec("INSERT INTO reversals (created, frame, next_attempt) VALUES (0, x'00', 0)")
	require.NoError(t, err)

	rec := &recorder{}
	j.Append(sampleEntry(1), rec)
	require.NoError(t, j.FlushLog(context.Background()))
	require.Len(t, rec.snapshot(), 1, "the waiter was told")
	require.NoError(t, rec.snapshot()[0].err)
	assert.Equal(t, 1, j.Lag(), "not indexed yet")

	require.NoError(t, tx.Rollback())
	require.NoError(t, j.Flush(context.Background()))
	assert.Zero(t, j.Lag())
}

// TestIndexedWithoutFlush: with nothing asking, a lone entry is indexed
// about indexEvery after it was written (the indexer's pacing timer).
func TestIndexedWithoutFlush(t *testing.T) {
	j, _ := openTemp(t, Options{})
	j.Append(sampleEntry(1), nil)
	require.NoError(t, j.FlushLog(context.Background()))
	require.Eventually(t, func() bool { return j.Lag() == 0 }, 10*time.Second, indexEvery/2, "indexed by the timer")
	es, err := j.List(context.Background(), Filter{})
	require.NoError(t, err)
	assert.Len(t, es, 1)
}

// TestStageEncoded: an entry encoded by AppendBody reads back like one
// appended whole, gets the next id, and AppendBody refuses what Append
// refuses.
func TestStageEncoded(t *testing.T) {
	j, _ := openTemp(t, Options{})
	rec := &recorder{}
	j.Append(sampleEntry(1), rec)
	e := sampleEntry(2)
	f := fieldsOf(e)
	body, err := AppendBody(nil, &f)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(body), f.BodySize())
	_, err = j.Stage(body)
	require.NoError(t, err)
	require.NoError(t, j.Flush(context.Background()))
	calls := rec.snapshot()
	require.Len(t, calls, 1)
	assert.NoError(t, calls[0].err)
	got, err := j.Get(context.Background(), 2)
	require.NoError(t, err)
	e.ID = 2
	assert.Equal(t, *e, got)

	f.PAN = []byte("4111111111111111")
	_, err = AppendBody(nil, &f)
	require.EqualError(t, err, "journal: field 2 (pan) has more than 10 digits: not masked, refused")
	f.PAN, f.Reason = nil, strings.Repeat("x", maxEntryText)
	_, err = AppendBody(nil, &f)
	require.ErrorContains(t, err, "bytes of text, more than")
}

// fieldsOf is e as the switch hands it to AppendBody.
func fieldsOf(e *Entry) Fields {
	return Fields{Time: e.Time, Conn: e.Conn, Latency: e.Latency, Acquirer: e.Acquirer, Remote: e.Remote,
		Issuer: e.Issuer, MTI: []byte(e.MTI), ProcessingCode: []byte(e.ProcessingCode), Amount: []byte(e.Amount),
		Currency: []byte(e.Currency), STAN: []byte(e.STAN), RRN: []byte(e.RRN), Terminal: []byte(e.Terminal),
		TransmissionTime: []byte(e.TransmissionTime), PAN: []byte(e.PAN), ResponseCode: e.ResponseCode,
		Outcome: e.Outcome, Reason: e.Reason}
}

// encoded is e encoded by AppendBody, as the switch stages its entries.
func encoded(t testing.TB, e *Entry) []byte {
	t.Helper()
	f := fieldsOf(e)
	body, err := AppendBody(nil, &f)
	require.NoError(t, err)
	return body
}

// TestStageAndCommit: Commit returns with the staged entry in the log.
// Stagers that each commit their own tickets, more of them than BatchMax
// lets wait, all get their entries written, under unique ids; with Sync
// "normal" and "full".
func TestStageAndCommit(t *testing.T) {
	for _, mode := range []string{"normal", "full"} {
		t.Run(mode, func(t *testing.T) { testStageAndCommit(t, mode) })
	}
}

func testStageAndCommit(t *testing.T, mode string) {
	ctx := context.Background()
	j, path := openTemp(t, Options{BatchMax: 16, Sync: mode})
	tk, err := j.Stage(encoded(t, sampleEntry(1)))
	require.NoError(t, err)
	require.NotZero(t, tk)
	j.Commit(tk)
	want := sampleEntry(1)
	want.ID = 1
	require.NoError(t, inLog(path, *want), "in the log once Commit returned")
	j.Commit(0) // carries nothing: returns at once

	stagers, each := 8, 300
	if mode == "full" {
		stagers, each = 4, 100 // an fsync per write
	}
	var wg sync.WaitGroup
	for g := range stagers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				tk, err := j.Stage(encoded(t, sampleEntry(2+g*each+i)))
				if !assert.NoError(t, err) {
					return
				}
				if i%3 == 0 { // some commit only every few entries: a later ticket covers earlier ones
					j.Commit(tk)
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, j.Flush(ctx))
	es, err := j.List(ctx, Filter{Limit: 10 * stagers * each})
	require.NoError(t, err)
	require.Len(t, es, 1+stagers*each)
	seen := map[int64]bool{}
	for _, e := range es {
		assert.False(t, seen[e.ID], "id %d twice", e.ID)
		seen[e.ID] = true
		assert.True(t, e.ID >= 1 && e.ID <= int64(len(es)), "id %d", e.ID)
	}
	assert.Zero(t, j.Lag())
}

// TestStagedWithoutCommitIsWritten: an entry nobody commits (a late
// answer's, say) still reaches the log, within sweepAfter.
func TestStagedWithoutCommitIsWritten(t *testing.T) {
	j, path := openTemp(t, Options{})
	_, err := j.Stage(encoded(t, sampleEntry(1)))
	require.NoError(t, err)
	want := sampleEntry(1)
	want.ID = 1
	require.Eventually(t, func() bool { return inLog(path, *want) == nil }, 10*time.Second, sweepAfter/2)
}

// TestStageRefusedWhenClosed: Stage fails with ErrClosed after Close and
// with ErrReadOnly on a read-only journal; nothing is staged.
func TestStageRefusedWhenClosed(t *testing.T) {
	j, path := openTemp(t, Options{})
	require.NoError(t, j.Close())
	tk, err := j.Stage(encoded(t, sampleEntry(1)))
	assert.ErrorIs(t, err, ErrClosed)
	assert.Zero(t, tk)
	j.Commit(tk)
	ro, err := OpenReadOnly(path)
	require.NoError(t, err)
	defer ro.Close()
	_, err = ro.Stage(encoded(t, sampleEntry(1)))
	assert.ErrorIs(t, err, ErrReadOnly)
}

// TestFailedLogWriteIsReported: entries a failed log write lost are
// counted by WriteFailed, their waiters hear the error (the Entry's id
// taken back), and nothing of them is left waiting: the lag is 0.
func TestFailedLogWriteIsReported(t *testing.T) {
	ctx := context.Background()
	var lost atomic.Int64
	j, _ := openTemp(t, Options{WriteFailed: func(n int) { lost.Add(int64(n)) }})
	// Break the segment file while holding the log, as the leader would.
	s := &j.st
	s.mu.Lock()
	for s.writing {
		s.cond.Wait()
	}
	s.writing = true
	require.NoError(t, j.log.f.Close())
	s.writing = false
	s.mu.Unlock()

	rec := &recorder{}
	e := sampleEntry(1)
	j.Append(e, rec)
	_, err := j.Stage(encoded(t, sampleEntry(2)))
	require.NoError(t, err)
	tk, err := j.Stage(encoded(t, sampleEntry(3)))
	require.NoError(t, err)
	j.Commit(tk)
	require.NoError(t, j.FlushLog(ctx))
	assert.Equal(t, int64(3), lost.Load())
	calls := rec.snapshot()
	require.Len(t, calls, 1)
	assert.ErrorContains(t, calls[0].err, "journal: log write")
	assert.Zero(t, calls[0].id, "a lost entry has no id")
	assert.Zero(t, j.Lag())
}

// TestStageFields: an entry staged from its fields reads back as Append
// would have stored it, is found by its RRN and STAN (the filter built
// from the stage's keys), and one refused takes no id.
func TestStageFields(t *testing.T) {
	ctx := context.Background()
	j, _ := openTemp(t, Options{})
	bad := fieldsOf(sampleEntry(1))
	bad.PAN = []byte("4111111111111111")
	_, err := j.StageFields(&bad)
	require.EqualError(t, err, "journal: field 2 (pan) has more than 10 digits: not masked, refused")
	_, err = j.Stage([]byte("not a body"))
	require.ErrorContains(t, err, "journal: entry refused")

	e := sampleEntry(2)
	f := fieldsOf(e)
	tk, err := j.StageFields(&f)
	require.NoError(t, err)
	j.Commit(tk)
	require.NoError(t, j.Flush(ctx))
	e.ID = 1 // the refused ones took none
	for _, flt := range []Filter{{RRN: e.RRN}, {STAN: e.STAN}, {}} {
		es, err := j.List(ctx, flt)
		require.NoError(t, err)
		require.Len(t, es, 1, "%+v", flt)
		assert.Equal(t, *e, es[0])
	}
	es, err := j.List(ctx, Filter{RRN: "999999999999"})
	require.NoError(t, err)
	assert.Empty(t, es)
	assert.Zero(t, j.Lag())
}

// TestCloseWhileStaging: Close while stagers, committers and Append's
// waiters are busy. Every call returns (no deadlock), stages after Close
// fail with ErrClosed, every waiter is told once, and every entry whose
// Stage succeeded is in the journal when it is opened again.
func TestCloseWhileStaging(t *testing.T) {
	ctx := context.Background()
	j, path := openTemp(t, Options{BatchMax: 8})
	var mu sync.Mutex
	var staged []string // RRNs
	closing := make(chan struct{})
	var once sync.Once
	recs := make([]*recorder, 4)
	appended := make([]int, 4)
	var wg sync.WaitGroup
	for g := range recs {
		recs[g] = &recorder{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				e := sampleEntry(1 + g*1_000_000 + i)
				if i%5 == 0 { // an Append with a waiter now and then
					j.Append(e, recs[g])
					appended[g]++
					continue
				}
				tk, err := j.Stage(encoded(t, e))
				if err != nil {
					assert.ErrorIs(t, err, ErrClosed)
					return
				}
				mu.Lock()
				staged = append(staged, e.RRN)
				n := len(staged)
				mu.Unlock()
				if i%2 == 0 {
					j.Commit(tk)
				}
				if n >= 3000 {
					once.Do(func() { close(closing) })
				}
			}
		}()
	}
	<-closing
	require.NoError(t, j.Close())
	wg.Wait()
	for g, rec := range recs {
		calls := rec.snapshot()
		require.Len(t, calls, appended[g], "every waiter told once")
		for _, c := range calls {
			if c.err != nil {
				assert.ErrorIs(t, c.err, ErrClosed)
			}
		}
	}

	j2, err := Open(path, Options{})
	require.NoError(t, err)
	defer j2.Close()
	es, err := j2.List(ctx, Filter{Limit: 1 << 20})
	require.NoError(t, err)
	have := map[string]bool{}
	for _, e := range es {
		have[e.RRN] = true
	}
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(staged), 3000)
	for _, rrn := range staged {
		if !have[rrn] {
			t.Fatalf("entry %s was staged before Close and is not in the journal", rrn)
		}
	}
}
