package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"time"
)

// replayLog indexes whatever a previous run left in the log (it crashed, or
// its indexer failed), then removes the segments. It returns the next id
// to assign. A torn tail of one of the two newest segments is dropped: a
// write cut by a crash (never acknowledged) or, after a power loss with
// Sync "normal", the last writes, which that mode may lose. Anything else
// that does not read as a record is corruption, and Open refuses to guess.
func (j *Journal) replayLog() (int64, error) {
	maxID, err := maxEntryID(context.Background(), j.wdb)
	if err != nil {
		return 0, err
	}
	segs, err := segments(j.log.dir)
	if err != nil {
		return 0, err
	}
	indexedMax, total, expired, cut := maxID, 0, 0, j.retentionCut()
	var fl inFlight
	for i, s := range segs {
		b, err := os.ReadFile(s) // #nosec G304 -- our own log directory
		if err != nil {
			return 0, fmt.Errorf("journal: read log segment: %w", err)
		}
		good, first, last, n := scanRecords(b, indexedMax)
		if good < len(b) {
			// Only the segment being written when the process died, or the
			// one sealed before it whose fsync had not finished (a power
			// loss; applog.go, rotate), can end torn.
			if i < len(segs)-2 {
				return 0, fmt.Errorf("journal: log segment %s is corrupt at byte %d (not the torn tail of a crash): "+
					"move the segment away to open the journal without it", s, good)
			}
			j.opt.Log.Warn("journal: cut the torn end of a log segment (a write interrupted by a crash or a power loss)",
				"segment", s, "bytes", len(b)-good)
		}
		fl.scan(b[:good], i)
		if good > 0 && last > 0 {
			old, err := j.indexSegment(b[:good], first, last, cut)
			if err != nil {
				return 0, fmt.Errorf("journal: index log segment %s: %w", s, err)
			}
			expired += old
		}
		maxID = max(maxID, last)
		total += n
	}
	// The reversals are stored before the log that records their requests
	// is removed: a start that dies in between does not store them twice
	// (reversalStored finds them).
	if err := j.reverseUnfinished(&fl, segs); err != nil {
		return 0, err
	}
	for _, s := range segs {
		if err := removeSegment(s); err != nil {
			return 0, err
		}
	}
	if expired > 0 {
		j.opt.Log.Info("journal: log records older than the retention left out of the index (pruning would delete them)",
			"entries", expired)
	}
	if total > 0 {
		j.walCheck()
		j.opt.Log.Info("journal: indexed entries the previous run left only in its log", "entries", total)
	}
	return maxID + 1, nil
}

// indexSegment indexes the records of b (ids first..last) that no batch
// row holds yet. A previous run's indexer may have stored some of them
// (it crashed after the commit, before removing the segment), or all but
// a group it gave up on.
//
// Records older than cut (the retention's, or math.MinInt64) are not
// indexed: Prune would delete them, and may have deleted them already from
// the rows that held them. It returns how many it left out for that.
func (j *Journal) indexSegment(b []byte, first, last, cut int64) (expired int, err error) {
	covered, err := coverage(context.Background(), j.wdb, first, last)
	if err != nil {
		return 0, err
	}
	skip := func(r *record) bool {
		if covered(r.id) {
			return true
		}
		if r.time < cut {
			expired++
			return true
		}
		return false
	}
	err = j.withWriteConn(func(dc any) error { expired = 0; return j.ins.insertRecords(dc, b, skip) })
	return expired, err
}

// retentionCut is the time before which Open leaves log records out of
// the index (Options.Retention), math.MinInt64 for none.
func (j *Journal) retentionCut() int64 {
	if j.opt.Retention <= 0 {
		return math.MinInt64
	}
	return time.Now().Add(-j.opt.Retention).UnixNano()
}

// coverage returns whether an id in [lo, hi] is held by a batch row; it
// must be asked in increasing id order (a segment's record order).
func coverage(ctx context.Context, db queryer, lo, hi int64) (func(id int64) bool, error) {
	held, err := indexedRanges(ctx, db, lo, hi)
	if err != nil {
		return nil, err
	}
	return func(id int64) bool {
		for len(held) > 0 && held[0][1] < id {
			held = held[1:]
		}
		return len(held) > 0 && held[0][0] <= id
	}, nil
}

// indexedRanges returns the id ranges of the batch rows that hold ids in
// [lo, hi], in order. Rows never overlap, so only the last row that starts
// below lo can reach into the range.
func indexedRanges(ctx context.Context, db queryer, lo, hi int64) ([][2]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT first_id, last_id FROM
		(SELECT first_id, last_id FROM batches WHERE first_id < ? ORDER BY first_id DESC LIMIT 1)
		UNION ALL SELECT first_id, last_id FROM batches WHERE first_id BETWEEN ? AND ? ORDER BY 1`, lo, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("journal: indexed ranges: %w", err)
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var r [2]int64
		if err := rows.Scan(&r[0], &r[1]); err != nil {
			return nil, fmt.Errorf("journal: indexed ranges: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// scanRecords checks b record by record: good is the length of the valid
// prefix, first and last the lowest and highest ids in it, and n the count
// of its records above indexed (the ones SQLite does not hold yet, unless
// an index failure left a gap).
func scanRecords(b []byte, indexed int64) (good int, first, last int64, n int) {
	_ = eachRecord(b, func(r *record) bool { // its error is where the valid prefix ends
		good += len(r.raw)
		if r.kind != recKindV1 {
			return true // a side record (inflight.go): no id
		}
		if first == 0 {
			first = r.id
		}
		last = max(last, r.id)
		if r.id > indexed {
			n++
		}
		return true
	})
	return good, first, last, n
}

// UnindexedLog counts the entries in the journal's log that its index
// does not hold yet: the indexer has not reached them, or a switch that
// stopped without indexing them (a crash) left them for its next start.
// Queries read them from the log (tail.go).
func (j *Journal) UnindexedLog(ctx context.Context) (int, error) {
	n, _, err := j.IndexBehind(ctx)
	return n, err
}

// maxEntryID is the highest id SQLite holds (0 when empty): entries are
// indexed in id order, so every record up to it is indexed unless its
// batch failed (and then its segment was kept). Rows never overlap, so the
// row that starts last ends last.
func maxEntryID(ctx context.Context, db *sql.DB) (int64, error) {
	var id int64
	err := db.QueryRowContext(ctx, "SELECT last_id FROM batches ORDER BY first_id DESC LIMIT 1").Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("journal: highest entry id: %w", err)
	}
	return id, nil
}
