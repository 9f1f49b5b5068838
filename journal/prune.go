package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// pruneChunk bounds the batch rows one DELETE removes: the indexer shares
// the connection, so pruning proceeds in short steps between its commits.
const pruneChunk = 16

// Prune deletes entries older than before: whole batch rows when all their
// entries are, then the older entries of the rows that straddle the cut
// (rewritten without them). Reversals are never pruned: one is deleted
// when its issuer acknowledges it (ReversalAcked). It returns the number
// of entries deleted.
func (j *Journal) Prune(ctx context.Context, before time.Time) (int64, error) {
	if err := j.writable(); err != nil {
		return 0, err
	}
	cut := before.UnixNano()
	var total int64
	for {
		n, rows, err := j.pruneStep(ctx, cut)
		total += n
		if err != nil {
			return total, fmt.Errorf("journal: prune: %w", err)
		}
		if rows < pruneChunk {
			break
		}
	}
	for {
		n, found, err := j.trimStep(ctx, cut)
		total += n
		if err != nil {
			return total, fmt.Errorf("journal: prune: %w", err)
		}
		if !found {
			break
		}
	}
	return total, nil
}

// pruneStep deletes up to pruneChunk batch rows older than cut and returns
// their entries and rows.
func (j *Journal) pruneStep(ctx context.Context, cut int64) (entries int64, rows int, err error) {
	res, err := j.wdb.QueryContext(ctx, `DELETE FROM batches WHERE first_id IN
		(SELECT first_id FROM batches WHERE max_time < ? ORDER BY max_time LIMIT ?) RETURNING count`, cut, pruneChunk)
	if err != nil {
		return 0, 0, err
	}
	defer res.Close()
	for res.Next() {
		var n int64
		if err := res.Scan(&n); err != nil {
			return entries, rows, err
		}
		entries += n
		rows++
	}
	return entries, rows, res.Err()
}

// trimStep rewrites one row holding entries older than cut (and, once
// pruneStep is done, newer ones too) without the older ones. It reports
// whether it found such a row.
func (j *Journal) trimStep(ctx context.Context, cut int64) (removed int64, found bool, err error) {
	tx, err := j.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	var first int64
	var b []byte
	err = tx.QueryRowContext(ctx, `SELECT first_id, records FROM batches WHERE min_time < ? LIMIT 1`, cut).Scan(&first, &b)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	var kept []byte
	n := 0
	if err := eachRowRecord(b, func(r *record) bool {
		if r.time < cut {
			removed++
		} else {
			kept, n = append(kept, r.raw...), n+1
		}
		return true
	}); err != nil {
		return 0, true, fmt.Errorf("batch %d: %w", first, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM batches WHERE first_id = ?`, first); err != nil {
		return 0, true, err
	}
	if n > 0 {
		if err := insertRowTx(ctx, tx, &batchMeta{}, kept, n); err != nil {
			return 0, true, err
		}
	}
	return removed, true, tx.Commit()
}
