package journal

import (
	"context"
	"fmt"
	"os"
)

// replayLog indexes whatever a previous run left in the log (it crashed, or
// its indexer failed), then removes the segments. It returns the next id
// to assign. A torn record at the end of the last segment (a write cut by
// a crash) is dropped: it was never acknowledged. Anything else that does
// not read as a record is corruption, and Open refuses to guess.
func (j *Journal) replayLog() (int64, error) {
	var maxID int64
	err := j.wdb.QueryRowContext(context.Background(), "SELECT COALESCE(MAX(id), 0) FROM entries").Scan(&maxID)
	if err != nil {
		return 0, fmt.Errorf("journal: open: %w", err)
	}
	segs, err := j.log.segments()
	if err != nil {
		return 0, err
	}
	indexedMax, total := maxID, 0
	for i, s := range segs {
		b, err := os.ReadFile(s) // #nosec G304 -- our own log directory
		if err != nil {
			return 0, fmt.Errorf("journal: read log segment: %w", err)
		}
		good, last, n := scanRecords(b, indexedMax)
		if good < len(b) {
			if i < len(segs)-1 { // only the segment being written when the process died can end torn
				return 0, fmt.Errorf("journal: log segment %s is corrupt at byte %d (not the torn tail of a crash): "+
					"move the segment away to open the journal without it", s, good)
			}
			j.opt.Log.Warn("journal: cut the torn end of the log (a write interrupted by a crash; never acknowledged)",
				"segment", s, "bytes", len(b)-good)
		}
		if good > 0 {
			if err := j.withWriteConn(func(dc any) error { return j.ins.insertRecords(dc, b[:good]) }); err != nil {
				return 0, fmt.Errorf("journal: index log segment %s: %w", s, err)
			}
		}
		maxID = max(maxID, last)
		total += n
	}
	for _, s := range segs {
		if err := removeSegment(s); err != nil {
			return 0, err
		}
	}
	if total > 0 {
		j.walCheck()
		j.opt.Log.Info("journal: indexed entries the previous run left only in its log", "entries", total)
	}
	return maxID + 1, nil
}

// scanRecords checks b record by record: good is the length of the valid
// prefix, last the highest id in it and n the count of its records above
// indexed (the ones SQLite does not hold yet).
func scanRecords(b []byte, indexed int64) (good int, last int64, n int) {
	var r record
	for good < len(b) {
		size, err := nextRecord(b[good:], &r)
		if err != nil || size == 0 {
			break
		}
		good += size
		last = max(last, r.id)
		if r.id > indexed {
			n++
		}
	}
	return good, last, n
}

// UnindexedLog counts the entries a switch that stopped without indexing
// them (a crash) left in the journal's log. They are durable, and the next
// Open, the switch's start, indexes them; until then queries do not show
// them. It is 0 while a switch writes the journal.
func (j *Journal) UnindexedLog(ctx context.Context) (int, error) {
	var maxID int64
	if err := j.rdb.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM entries").Scan(&maxID); err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	n, err := unindexedLog(j.path, maxID)
	if err != nil {
		return 0, fmt.Errorf("journal: log: %w", err)
	}
	return n, nil
}
