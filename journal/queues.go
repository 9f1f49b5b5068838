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

// QueueByIssuer counts this node's reversals owed per issuer (no
// stand-in advices are stored on PostgreSQL).
func (p *PG) QueueByIssuer(ctx context.Context) (map[string]IssuerQueue, error) {
	rows, err := p.pool.Query(ctx, `SELECT issuer, count(*), 0, coalesce(min(created), 0)
		FROM reversals WHERE node = $1 GROUP BY issuer`, p.opt.Node)
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

// Node is one switch node sharing a PostgreSQL journal, as its heartbeat
// row tells.
type Node struct {
	Node      string
	Heartbeat time.Time
	Started   time.Time
	// ConfigHash is the configuration the node last beat with; "" when
	// the nodes table does not record it.
	ConfigHash string
}

// Nodes lists the nodes that have beaten, by name. The config hash is
// read when the nodes table has a config_hash column.
func (p *PG) Nodes(ctx context.Context) ([]Node, error) {
	var hasHash bool
	err := p.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'nodes' AND column_name = 'config_hash')`).Scan(&hasHash)
	if err != nil {
		return nil, fmt.Errorf("journal.postgres: nodes: %w", err)
	}
	hash := "''"
	if hasHash {
		hash = "coalesce(config_hash, '')"
	}
	rows, err := p.pool.Query(ctx, `SELECT node, heartbeat_ns, started_ns, `+hash+` FROM nodes ORDER BY node`)
	if err != nil {
		return nil, fmt.Errorf("journal.postgres: nodes: %w", err)
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		var n Node
		var beat, started int64
		if err := rows.Scan(&n.Node, &beat, &started, &n.ConfigHash); err != nil {
			return nil, fmt.Errorf("journal.postgres: nodes: %w", err)
		}
		n.Heartbeat, n.Started = fromNanos(beat), fromNanos(started)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal.postgres: nodes: %w", err)
	}
	return out, nil
}
