package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Queries read the index and, beside it, the log's tail: the entries
// written but not indexed yet (the indexer is behind, or a switch that
// crashed left them for its next start). They read the segments' files
// only: no lock, nothing the writer waits for. The files are read before
// the index's snapshot is taken, so an entry is never missed: a segment
// removed meanwhile was indexed before its removal, and the snapshot
// taken after sees it. An entry in both (indexed while it was read) is
// taken from the index.
//
// Pruning deletes rows (or entries from rows) whose records may still be
// in the log: an entry older than everything the index holds, and below
// its highest id, is taken as pruned and left out. When the index holds
// nothing at all, every entry in the log is shown.

// logTail is the log's entries that no batch row holds, in log order.
type logTail struct {
	recs   []byte // their records, whole
	n      int
	oldest int64 // the first one's time, unix ns
}

// readTail reads the log's segments that may hold entries the index
// lacks, then keeps those entries that no row in q's snapshot holds.
// q is queried after the files are read.
func (j *Journal) readTail(ctx context.Context, q queryer) (logTail, error) {
	files, err := j.tailFiles(ctx)
	if err != nil {
		return logTail{}, err
	}
	hw, err := indexBounds(ctx, q)
	if err != nil {
		return logTail{}, err
	}
	var t logTail
	for _, b := range files {
		good, first, last, _ := scanRecords(b, 0)
		if last == 0 {
			continue
		}
		covered, err := coverage(ctx, q, first, last)
		if err != nil {
			return logTail{}, err
		}
		_ = eachRecord(b[:good], func(r *record) bool { // the valid prefix: no error
			if r.kind == recKindV1 && !covered(r.id) && hw.unpruned(r) {
				if t.n == 0 {
					t.oldest = r.time
				}
				t.recs = append(t.recs, r.raw...)
				t.n++
			}
			return true
		})
	}
	return t, nil
}

// tailFiles reads the segments whose ids the index does not hold
// entirely (the newest one always: its last id is not known). A segment
// removed since it was listed was indexed: it is left out.
func (j *Journal) tailFiles(ctx context.Context) ([][]byte, error) {
	segs, err := segments(j.path + logSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for i, s := range segs {
		if i+1 < len(segs) {
			lo, hi := segFirstID(s), segFirstID(segs[i+1])-1
			if full, err := indexedWhole(ctx, j.rdb, lo, hi); err != nil {
				return nil, err
			} else if full {
				continue
			}
		}
		b, err := os.ReadFile(s) // #nosec G304 -- our own log directory
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("journal: read log segment: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}

// bounds is the index's highest id and the time of the first entry of its
// oldest row (valid false: no rows).
type bounds struct {
	last, oldest int64
	valid        bool
}

func indexBounds(ctx context.Context, q queryer) (bounds, error) {
	rows, err := q.QueryContext(ctx, `SELECT (SELECT last_id FROM batches ORDER BY first_id DESC LIMIT 1),
		(SELECT min_time FROM batches ORDER BY first_id LIMIT 1)`)
	if err != nil {
		return bounds{}, fmt.Errorf("journal: index bounds: %w", err)
	}
	defer rows.Close()
	var last, oldest sql.NullInt64
	if rows.Next() {
		if err := rows.Scan(&last, &oldest); err != nil {
			return bounds{}, fmt.Errorf("journal: index bounds: %w", err)
		}
	}
	return bounds{last: last.Int64, oldest: oldest.Int64, valid: last.Valid && oldest.Valid}, rows.Err()
}

// unpruned reports whether a record no row holds is not one pruning
// removed from the index.
func (b bounds) unpruned(r *record) bool {
	return !b.valid || r.id > b.last || r.time >= b.oldest
}

// segFirstID is the id a segment's name gives (its first record's), 0 if
// the name is not a segment's.
func segFirstID(path string) int64 {
	var id int64
	if _, err := fmt.Sscanf(filepath.Base(path), "%d"+segExt, &id); err != nil {
		return 0
	}
	return id
}

// indexedWhole reports whether batch rows hold every id in [lo, hi].
func indexedWhole(ctx context.Context, q queryer, lo, hi int64) (bool, error) {
	if lo <= 0 || hi < lo {
		return false, nil
	}
	rs, err := indexedRanges(ctx, q, lo, hi)
	if err != nil {
		return false, err
	}
	next := lo
	for _, r := range rs {
		if r[0] > next {
			return false, nil
		}
		next = max(next, r[1]+1)
	}
	return next > hi, nil
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// each calls fn with the tail's entries in log order until it returns
// false.
func (t *logTail) each(fn func(r *record) bool) {
	_ = eachRecord(t.recs, fn) // records checked when read
}

// IndexBehind is how far the index lags the log, as a reader sees it: the
// entries in the log that the index does not hold yet (queries read them
// from the log) and the age of the oldest. It reads the log without
// locking it, beside a writing switch or after a crash.
func (j *Journal) IndexBehind(ctx context.Context) (entries int, age time.Duration, err error) {
	t, err := j.readTail(ctx, j.rdb)
	if err != nil {
		return 0, 0, fmt.Errorf("journal: log: %w", err)
	}
	if t.n == 0 {
		return 0, 0, nil
	}
	return t.n, max(0, time.Since(time.Unix(0, t.oldest))), nil
}
