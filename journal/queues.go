package journal

import (
	"context"
	"fmt"
	"time"
)

// IssuerQueue is one issuer's stored messages owed, for the status page:
// reversals, stand-in advices (those on the exception list not counted),
// and when the oldest of them was stored (zero: none).
type IssuerQueue struct {
	Reversals int
	Advices   int
	Oldest    time.Time
}

// QueueByIssuer counts the stored messages owed per issuer.
func (j *Journal) QueueByIssuer(ctx context.Context) (map[string]IssuerQueue, error) {
	rows, err := j.rdb.QueryContext(ctx, `SELECT issuer, coalesce(sum(kind != ?), 0),
		coalesce(sum(kind = ? AND exception = 0), 0),
		coalesce(min(CASE WHEN kind != ? OR exception = 0 THEN created END), 0)
		FROM reversals GROUP BY issuer`, KindStandIn, KindStandIn, KindStandIn)
	if err != nil {
		return nil, fmt.Errorf("journal: queue by issuer: %w", err)
	}
	defer rows.Close()
	return scanQueues(rows.Next, rows.Scan, rows.Err)
}

// QueueByIssuer counts this node's stored messages owed per issuer.
func (p *PG) QueueByIssuer(ctx context.Context) (map[string]IssuerQueue, error) {
	rows, err := p.pool.Query(ctx, `SELECT issuer, coalesce(sum(CASE WHEN kind <> $2 THEN 1 ELSE 0 END), 0),
		coalesce(sum(CASE WHEN kind = $2 AND exception = 0 THEN 1 ELSE 0 END), 0),
		coalesce(min(CASE WHEN kind <> $2 OR exception = 0 THEN created END), 0)
		FROM reversals WHERE node = $1 GROUP BY issuer`, p.opt.Node, KindStandIn)
	if err != nil {
		return nil, fmt.Errorf("journal: queue by issuer: %w", err)
	}
	defer rows.Close()
	return scanQueues(rows.Next, rows.Scan, rows.Err)
}

func scanQueues(next func() bool, scan func(...any) error, end func() error) (map[string]IssuerQueue, error) {
	out := map[string]IssuerQueue{}
	for next() {
		var name string
		var q IssuerQueue
		var oldest int64
		if err := scan(&name, &q.Reversals, &q.Advices, &oldest); err != nil {
			return nil, fmt.Errorf("journal: queue by issuer: %w", err)
		}
		if oldest != 0 {
			q.Oldest = fromNanos(oldest)
		}
		out[name] = q
	}
	if err := end(); err != nil {
		return nil, fmt.Errorf("journal: queue by issuer: %w", err)
	}
	return out, nil
}
