package journal

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// testKeys seal the stored messages of the journals the tests open.
var testKeys = [][32]byte{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
	26, 27, 28, 29, 30, 31, 32}}

// openTemp opens a new journal in a temp dir, with testKeys unless o has
// keys.
func openTemp(t testing.TB, o Options) (*Journal, string) {
	t.Helper()
	if o.Keys == nil {
		o.Keys = testKeys
	}
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := Open(path, o)
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	return j, path
}

// sampleEntry is entry number i, with a masked PAN.
func sampleEntry(i int) *Entry {
	return &Entry{
		Time: t0.Add(time.Duration(i) * time.Second), Acquirer: "acq-1", Conn: uint64(i % 7), Remote: "10.0.0.1:5000",
		Issuer: "bank-a", MTI: "0100", ProcessingCode: "000000", Amount: "000000001000", Currency: "978",
		STAN: fmt.Sprintf("%06d", i), RRN: fmt.Sprintf("%012d", i), Terminal: "TERM0001",
		TransmissionTime: "0301120000", PAN: "411111******1111", ResponseCode: "00", Outcome: Approved,
		Reason: "issuer", Latency: time.Duration(i) * time.Millisecond,
	}
}

// recorder is a Waiter that keeps calls in order.
type recorder struct {
	mu    sync.Mutex
	calls []call
}

type call struct {
	e   *Entry
	id  int64
	err error
}

func (r *recorder) Journaled(e *Entry, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := call{e: e, err: err}
	if e != nil {
		c.id = e.ID
	}
	r.calls = append(r.calls, c)
}

func (r *recorder) snapshot() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

// appendAll appends n sample entries, flushes, and returns them.
func appendAll(t *testing.T, j *Journal, n int, w Waiter) []*Entry {
	t.Helper()
	es := make([]*Entry, n)
	for i := range es {
		es[i] = sampleEntry(i + 1)
		j.Append(es[i], w)
	}
	require.NoError(t, j.Flush(context.Background()))
	return es
}

// sampleRecords returns the log records of sample entries lo..hi, with
// ids equal to their numbers.
func sampleRecords(lo, hi int) []byte {
	var b []byte
	for i := lo; i <= hi; i++ {
		e := sampleEntry(i)
		e.ID = int64(i)
		b = appendRecord(b, e)
	}
	return b
}
