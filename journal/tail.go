package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Queries read the index and, beside it, the log's tail: the entries
// written but not indexed yet (the indexer is behind, or a switch that
// crashed left them for its next start). They read the segments' files
// only: no lock, nothing the writer waits for. The files are opened
// before the index's snapshot is taken, so an entry is never missed: a
// segment removed meanwhile was indexed before its removal, and the
// snapshot taken after sees it. An entry in both (indexed while it was
// read) is taken from the index.
//
// Pruning deletes rows (or entries from rows) whose records may still be
// in the log: an entry older than everything the index holds, and below
// its highest id, is taken as pruned and left out. When the index holds
// nothing at all, every entry in the log is shown.

// logTail streams the log's entries that no batch row holds, in log
// order, one segment in memory at a time: a query beside an index that
// lags by gigabytes (a peak past journal.index_lag_max, a stalled
// indexer) holds one segment (segMaxSize and a write), not the lag.
// The segments are opened before the index's snapshot is taken: one
// removed meanwhile (indexed, then pruned by the writer) stays readable
// through its open file, so no entry falls between the two.
type logTail struct {
	files []*os.File
	q     queryer
	hw    bounds
	buf   []byte
}

// openTail opens the log's segments that may hold entries the index
// lacks, then takes q's snapshot. Close it.
func (j *Journal) openTail(ctx context.Context, q queryer) (*logTail, error) {
	files, err := j.tailFiles(ctx)
	if err != nil {
		return nil, err
	}
	t := &logTail{files: files, q: q}
	if t.hw, err = indexBounds(ctx, q); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// Close closes the segments.
func (t *logTail) Close() {
	for _, f := range t.files {
		_ = f.Close()
	}
	t.files = nil
}

// each calls fn with the tail's entries in log order until it returns
// false. r aliases a buffer reused for the next segment: fn copies what
// it keeps (entryOf does).
func (t *logTail) each(ctx context.Context, fn func(r *record) bool) error {
	for _, f := range t.files {
		var err error
		if t.buf, err = readWhole(f, t.buf[:0]); err != nil {
			return fmt.Errorf("journal: read log segment: %w", err)
		}
		more, err := t.segment(ctx, t.buf, fn)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// segment is each for one segment's bytes b.
func (t *logTail) segment(ctx context.Context, b []byte, fn func(r *record) bool) (more bool, err error) {
	good, first, last, _ := scanRecords(b, 0)
	if last == 0 {
		return true, nil
	}
	covered, err := coverage(ctx, t.q, first, last)
	if err != nil {
		return false, err
	}
	more = true
	_ = eachRecord(b[:good], func(r *record) bool { // the valid prefix: no error
		if r.kind == recKindV1 && !covered(r.id) && t.hw.unpruned(r) {
			more = fn(r)
		}
		return more
	})
	return more, nil
}

// readWhole appends f's bytes from its start to its end as of now to
// buf (the newest segment grows while it is read: what is past the end
// read is newer than the snapshot, and a torn last record is left out by
// scanRecords).
func readWhole(f *os.File, buf []byte) ([]byte, error) {
	if st, err := f.Stat(); err == nil && int64(cap(buf)) <= st.Size() {
		// Room for the writes that come while it is read, and for the
		// next segments, most of which are no larger.
		buf = make([]byte, 0, st.Size()+st.Size()/4+64<<10)
	}
	for off := int64(0); ; {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.ReadAt(buf[len(buf):cap(buf)], off)
		buf, off = buf[:len(buf)+n], off+int64(n)
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// tailFiles opens the segments whose ids the index does not hold
// entirely (the newest one always: its last id is not known). A segment
// removed since it was listed was indexed: it is left out.
func (j *Journal) tailFiles(ctx context.Context) (out []*os.File, err error) {
	segs, err := segments(j.path + logSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			for _, f := range out {
				_ = f.Close()
			}
		}
	}()
	for i, s := range segs {
		if i+1 < len(segs) {
			lo, hi := segFirstID(s), segFirstID(segs[i+1])-1
			if full, err := indexedWhole(ctx, j.rdb, lo, hi); err != nil {
				return out, err
			} else if full {
				continue
			}
		}
		f, err := os.Open(s) // #nosec G304 -- our own log directory
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("journal: read log segment: %w", err)
		}
		out = append(out, f)
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

// IndexBehind is how far the index lags the log, as a reader sees it: the
// entries in the log that the index does not hold yet (queries read them
// from the log) and the age of the oldest. It reads the log without
// locking it, beside a writing switch or after a crash.
func (j *Journal) IndexBehind(ctx context.Context) (entries int, age time.Duration, err error) {
	t, err := j.openTail(ctx, j.rdb)
	if err != nil {
		return 0, 0, fmt.Errorf("journal: log: %w", err)
	}
	defer t.Close()
	var oldest int64
	err = t.each(ctx, func(r *record) bool {
		if entries == 0 {
			oldest = r.time
		}
		entries++
		return true
	})
	if err != nil {
		return 0, 0, fmt.Errorf("journal: log: %w", err)
	}
	if entries == 0 {
		return 0, 0, nil
	}
	return entries, max(0, time.Since(time.Unix(0, oldest))), nil
}
