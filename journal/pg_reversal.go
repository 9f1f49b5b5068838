package journal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// The store-and-forward queue on PostgreSQL, sealed as in SQLite
// (seal.go: to the row's id, creation time and issuer, not to a node, so
// any node with the keys opens any row). A row belongs to the node in its
// node column: the one that stored it, until that node's heartbeat is
// older than the lease; then the first live node that finds it due claims
// it (FOR UPDATE SKIP LOCKED: two claiming nodes never take the same row)
// and delivers it from then on.

// ErrUnsupported wraps what a journal backend cannot do yet.
var ErrUnsupported = errors.New("not supported by this journal backend yet")

const pgReversalCols = `id, created, issuer, entry_id, stan, rrn, frame, attempts, next_attempt, last_error, kind, exception`

// AddReversals stores rs in one transaction; each gets its ID. All are
// durable when it returns, or none is stored.
func (p *PG) AddReversals(ctx context.Context, rs []*Reversal) error {
	if p.opt.ReadOnly {
		return ErrReadOnly
	}
	wctx, cancel := context.WithTimeout(ctx, pgWriteTimeout)
	err := p.addReversals(wctx, p.pool, rs)
	cancel()
	if err != nil && p.opt.Spool != "" {
		p.opt.Log.Error("journal.postgres: reversals not stored in the database: kept in the local spool",
			"reversals", len(rs), "spool", p.opt.Spool, "err", err)
		err = p.spoolReversals(rs)
	}
	if err != nil {
		return fmt.Errorf("journal: add reversals: %w", err)
	}
	return nil
}

// copier is what addReversals writes with: the pool (a transaction of
// its own) or a transaction under way.
type copier interface {
	CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error)
}

// addReversals seals rs to ids claimed here and copies them into
// reversals with db, as this node's.
func (p *PG) addReversals(ctx context.Context, db copier, rs []*Reversal) error {
	if len(rs) == 0 {
		return nil
	}
	first, err := claimIDs(ctx, p.pool, int64(len(rs)))
	if err != nil {
		return err
	}
	rows := make([][]any, 0, len(rs))
	for i, r := range rs {
		if r.Created.IsZero() {
			r.Created = time.Now()
		}
		if r.NextAttempt.IsZero() {
			r.NextAttempt = r.Created
		}
		id := first + int64(i)
		kid, sealed, err := p.seal.seal(r.Frame, id, r.Created.UnixNano(), r.Issuer)
		if err != nil {
			return err
		}
		rows = append(rows, []any{id, p.opt.Node, r.Created.UnixNano(), r.Issuer, r.EntryID, r.STAN, r.RRN, sealed,
			int64(kid), r.Attempts, r.NextAttempt.UnixNano(), r.LastError, r.Kind})
	}
	_, err = db.CopyFrom(ctx, pgx.Identifier{"reversals"}, []string{"id", "node", "created", "issuer",
		"entry_id", "stan", "rrn", "frame", "key_id", "attempts", "next_attempt", "last_error", "kind"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return err
	}
	for i, r := range rs {
		r.ID = first + int64(i)
	}
	return nil
}

// keyIDs is the configured keys' ids as a query argument.
func (p *PG) keyIDs() []int64 {
	out := make([]int64, len(p.seal.ids))
	for i, id := range p.seal.ids {
		out[i] = int64(id)
	}
	return out
}

// pgDueReversalsSQL selects (and locks) the reversals node $1 may claim:
// due by $2, owed to issuer $3, sealed with a key of $4, and its own or
// of a node without a heartbeat since $5 (at most $6). The owner's
// liveness is a NOT EXISTS, not a LEFT JOIN of nodes: when another node
// claims a row between this statement's snapshot and its lock, PostgreSQL
// rechecks the row's new version against the conditions, and a join would
// then find no nodes row for the new owner (the joined row is the old
// owner's) and read it as a node without a heartbeat: both nodes claimed
// the row.
const pgDueReversalsSQL = `SELECT r.id FROM reversals r
	WHERE r.next_attempt <= $2 AND r.issuer = $3 AND r.exception = 0 AND r.key_id = ANY($4)
		AND (r.node = $1 OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.node = r.node AND n.heartbeat_ns >= $5))
	ORDER BY r.id LIMIT $6 FOR UPDATE OF r SKIP LOCKED`

// DueReversalsOf lists the reversals owed to issuer whose NextAttempt <=
// now, oldest first (limit <= 0: no limit): this node's, and those of
// nodes whose lease lapsed, which it claims.
func (p *PG) DueReversalsOf(issuer string, now time.Time, limit int) ([]Reversal, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	out, err := p.reversals(`UPDATE reversals SET node = $1 WHERE id IN (`+pgDueReversalsSQL+`)
		RETURNING `+pgReversalCols, p.opt.Node, now.UnixNano(), issuer, p.keyIDs(),
		p.deadBefore(), limit)
	slices.SortFunc(out, func(a, b Reversal) int { return cmp.Compare(a.ID, b.ID) })
	return out, err
}

// PendingReversals lists this node's reversals whose key is configured.
func (p *PG) PendingReversals() ([]Reversal, error) {
	return p.reversals(`SELECT `+pgReversalCols+` FROM reversals WHERE node = $1 AND key_id = ANY($2)
		ORDER BY id`, p.opt.Node, p.keyIDs())
}

// LockedReversals lists this node's reversals sealed with a key no longer
// configured, without their frames.
func (p *PG) LockedReversals() ([]Reversal, error) {
	rows, err := p.pool.Query(context.Background(), `SELECT id, created, issuer, entry_id, stan, rrn, attempts,
		key_id FROM reversals WHERE node = $1 AND NOT (key_id = ANY($2)) ORDER BY id`, p.opt.Node, p.keyIDs())
	if err != nil {
		return nil, fmt.Errorf("journal: list reversals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Reversal, error) {
		var r Reversal
		var created, kid int64
		err := row.Scan(&r.ID, &created, &r.Issuer, &r.EntryID, &r.STAN, &r.RRN, &r.Attempts, &kid)
		r.Created, r.FrameErr = fromNanos(created), &KeyGoneError{KeyID: uint32(kid)} // #nosec G115 -- a key id
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("journal: list reversals: %w", err)
	}
	return out, nil
}

func (p *PG) reversals(query string, args ...any) ([]Reversal, error) {
	rows, err := p.pool.Query(context.Background(), query, args...)
	if err != nil {
		return nil, fmt.Errorf("journal: list reversals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Reversal, error) {
		var r Reversal
		var created, next, exception int64
		var sealed []byte
		err := row.Scan(&r.ID, &created, &r.Issuer, &r.EntryID, &r.STAN, &r.RRN, &sealed, &r.Attempts,
			&next, &r.LastError, &r.Kind, &exception)
		if err != nil {
			return r, err
		}
		r.Created, r.NextAttempt = fromNanos(created), fromNanos(next)
		if exception != 0 {
			r.Exception = fromNanos(exception)
		}
		r.Frame, r.FrameErr = p.seal.open(sealed, r.ID, created, r.Issuer)
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal: list reversals: %w", err)
	}
	return out, nil
}

// ReversalAttempted records a failed or unanswered send.
func (p *PG) ReversalAttempted(id int64, next time.Time, lastErr string) error {
	return p.execOne("reversal attempted", id, `UPDATE reversals SET attempts = attempts + 1,
		next_attempt = $1, last_error = $2 WHERE id = $3`, next.UnixNano(), lastErr, id)
}

// ReversalRepeated is ReversalAttempted with frame (the 0421) replacing
// the stored one, sealed to the row.
func (p *PG) ReversalRepeated(r *Reversal, frame []byte, next time.Time, lastErr string) error {
	kid, sealed, err := p.seal.seal(frame, r.ID, r.Created.UnixNano(), r.Issuer)
	if err != nil {
		return err
	}
	return p.execOne("reversal attempted", r.ID, `UPDATE reversals SET attempts = attempts + 1,
		next_attempt = $1, last_error = $2, frame = $3, key_id = $4 WHERE id = $5`,
		next.UnixNano(), lastErr, sealed, int64(kid), r.ID)
}

// ReversalAcked deletes the acknowledged reversal's row.
func (p *PG) ReversalAcked(id int64, _ string) error {
	return p.execOne("reversal acked", id, `DELETE FROM reversals WHERE id = $1`, id)
}

func (p *PG) execOne(what string, id int64, query string, args ...any) error {
	if p.opt.ReadOnly {
		return ErrReadOnly
	}
	tag, err := p.pool.Exec(context.Background(), query, args...)
	if err != nil {
		return fmt.Errorf("journal: %s: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return &NotFoundError{Kind: "reversal", ID: id}
	}
	return nil
}

// ReversalCount is the number of this node's reversals still owed.
func (p *PG) ReversalCount() (int, error) {
	var n int
	err := p.pool.QueryRow(context.Background(), `SELECT count(*) FROM reversals WHERE node = $1`,
		p.opt.Node).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("journal: count reversals: %w", err)
	}
	return n, nil
}

// reverseUnfinished stores the reversal of each request this node's
// previous runs recorded in flight and never finished.
func (p *PG) reverseUnfinished(ctx context.Context) error {
	found, stored, err := p.reverseInFlight(ctx, `node = $1`, p.opt.Node)
	if err != nil {
		return fmt.Errorf("journal.postgres: reversals of the requests in flight at the last stop: %w", err)
	}
	if found > 0 {
		p.opt.Log.Warn("journal: requests in flight when the previous run stopped are reversed (0420 stored)",
			"requests", found, "stored", stored)
	}
	return nil
}

// takeOverInFlight reverses the requests that nodes whose lease lapsed
// left in flight: their reversals become this node's to deliver.
func (p *PG) takeOverInFlight(ctx context.Context) error {
	found, stored, err := p.reverseInFlight(ctx, `node <> $1 AND node IN
		(SELECT node FROM nodes WHERE heartbeat_ns < $2)`, p.opt.Node, p.deadBefore())
	if err != nil {
		return fmt.Errorf("journal.postgres: taking over the requests in flight of dead nodes: %w", err)
	}
	if found > 0 {
		p.opt.Log.Warn("journal.postgres: requests left in flight by nodes past cluster.lease are reversed "+
			"(0420 stored, delivered by this node)", "requests", found, "stored", stored)
	}
	return nil
}

// reverseInFlight stores, in one transaction, the reversal Options.Reverse
// makes of each in-flight record matching where (rows locked FOR UPDATE
// SKIP LOCKED: two nodes never reverse one record), and deletes the
// records. One whose reversal is stored already (the timeout's, when the
// node died before the request's entry closed the record) is not stored
// again.
func (p *PG) reverseInFlight(ctx context.Context, where string, args ...any) (found, stored int, err error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	rows, err := tx.Query(ctx, `SELECT node, run, seq, record FROM inflight WHERE `+where+`
		ORDER BY node, run, seq FOR UPDATE SKIP LOCKED`, args...)
	if err != nil {
		return 0, 0, err
	}
	type rec struct {
		node     string
		run, seq int64
		b        []byte
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rec, error) {
		var x rec
		return x, r.Scan(&x.node, &x.run, &x.seq, &x.b)
	})
	if err != nil || len(recs) == 0 {
		return 0, 0, err
	}
	var rs []*Reversal
	for _, x := range recs {
		rv := p.reversalOf(x.b)
		if rv == nil {
			continue
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM reversals WHERE issuer = $1 AND stan = $2 AND rrn = $3
			AND created >= $4`, rv.Issuer, rv.STAN, rv.RRN, rv.Created.UnixNano()).Scan(&n); err != nil {
			return 0, 0, err
		}
		if n == 0 {
			rs = append(rs, rv)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM inflight WHERE node = $1 AND run = $2 AND seq = $3`,
			x.node, x.run, x.seq); err != nil {
			return 0, 0, err
		}
	}
	if err := p.addReversals(ctx, tx, rs); err != nil {
		return 0, 0, err
	}
	return len(recs), len(rs), tx.Commit(ctx)
}

// reversalOf is Options.Reverse's reversal of in-flight record b; nil
// (logged) when b does not decode or Reverse refuses it.
func (p *PG) reversalOf(b []byte) *Reversal {
	var r record
	if n, err := nextRecord(b, &r); err != nil || n == 0 || r.kind != recKindSent {
		p.opt.Log.Error("journal.postgres: an in-flight record does not decode: that request is not reversed")
		return nil
	}
	s, ok, _ := sentOf(&r, p.seal)
	if !ok || p.opt.Reverse == nil {
		p.opt.Log.Error("journal.postgres: an in-flight request is not reversed (no Options.Reverse, or "+
			"its record is damaged): reverse it manually", "issuer", s.Issuer, "stan", string(s.Field(11)))
		return nil
	}
	rv, err := p.opt.Reverse(&s)
	if err != nil {
		p.opt.Log.Error("REVERSAL NOT STORED for a request in flight at the last stop: reverse manually",
			"issuer", s.Issuer, "stan", string(s.Field(11)), "rrn", string(s.Field(37)), "err", err)
		return nil
	}
	return rv
}
