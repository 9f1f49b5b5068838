package journal

import (
	"context"
	"fmt"
	"time"
)

// pruneChunk bounds the rows one DELETE removes: the writer shares the
// connection, so pruning proceeds in short steps between its commits.
const pruneChunk = 5000

// Prune deletes entries older than before, and reversals acknowledged
// before it. Reversals still owed are never deleted. It returns the number
// of entries deleted.
func (j *Journal) Prune(ctx context.Context, before time.Time) (int64, error) {
	if err := j.writable(); err != nil {
		return 0, err
	}
	cut := before.UnixNano()
	var total int64
	for {
		res, err := j.wdb.ExecContext(ctx, `DELETE FROM entries WHERE id IN
			(SELECT id FROM entries WHERE time < ? ORDER BY time LIMIT ?)`, cut, pruneChunk)
		if err != nil {
			return total, fmt.Errorf("journal: prune: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < pruneChunk {
			break
		}
	}
	if _, err := j.wdb.ExecContext(ctx, `DELETE FROM reversals WHERE acked = 1 AND acked_at < ?`, cut); err != nil {
		return total, fmt.Errorf("journal: prune reversals: %w", err)
	}
	return total, nil
}
