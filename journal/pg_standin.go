package journal

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Stand-in on PostgreSQL: the card counters (stand_in_uses), the day's
// approval numbers (stand_in_days) and the advices (reversals, kind
// 'stand-in') are shared by every node, so a card's limits hold across the
// cluster and an approval code is never given twice in a day by any node.
//
// Two nodes deciding for one card at once must not both read its usage
// before either records its use: Usage first upserts the card's row in
// stand_in_cards (INSERT ... ON CONFLICT DO UPDATE), which locks it until
// the transaction ends; the other node's upsert waits, and its count,
// read by the next statement (a snapshot of its own, READ COMMITTED),
// sees the use the first committed.

// CardHash is the key a card's stand-in counters are kept under, as in
// the SQLite journal (Journal.CardHash): every node with the same first
// key derives the same one. ErrNoKey without keys.
func (p *PG) CardHash(pan []byte) ([]byte, error) { return p.seal.cardHash(pan) }

// pgStandInAttempts is how many times StandIn runs a transaction that
// lost a deadlock (two nodes' batches locking the same cards in opposite
// orders: PostgreSQL aborts one) before it gives up.
const pgStandInAttempts = 3

// StandIn runs fn in one transaction and commits it when fn returns nil;
// on error nothing fn did in it is stored. A transaction the database
// aborted for a deadlock or a serialization failure is run again, fn
// included: fn must start afresh on each call.
func (p *PG) StandIn(ctx context.Context, fn func(*StandInTx) error) error {
	if p.opt.ReadOnly {
		return ErrReadOnly
	}
	var err error
	for attempt := range pgStandInAttempts {
		if attempt > 0 {
			// The winner, woken by the abort, must take the lock the
			// loser held before the loser's next run takes it again (a
			// new deadlock): a few milliseconds, jittered.
			t := time.NewTimer(time.Duration(1+rand.IntN(10*attempt)) * time.Millisecond) // #nosec G404 -- jitter
			select {
			case <-ctx.Done():
				t.Stop()
				return err
			case <-t.C:
			}
		}
		if err = p.standInOnce(ctx, fn); !lockConflict(err) {
			break
		}
	}
	return err
}

func (p *PG) standInOnce(ctx context.Context, fn func(*StandInTx) error) error {
	ctx, cancel := context.WithTimeout(ctx, pgWriteTimeout)
	defer cancel()
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("journal: stand-in: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := fn(&StandInTx{b: &pgStandIn{ctx: ctx, p: p, tx: tx}}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("journal: stand-in: %w", err)
	}
	return nil
}

// lockConflict reports whether err is PostgreSQL's deadlock_detected or
// serialization_failure: the transaction may succeed when run again.
func lockConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// pgStandIn is a StandInTx on PostgreSQL.
type pgStandIn struct {
	ctx context.Context
	p   *PG
	tx  pgx.Tx
}

// usage locks the card's row, then counts its uses: the two statements
// are sent together (one round trip), the second executed only once the
// first holds the lock.
func (s *pgStandIn) usage(issuer string, card []byte, since time.Time) (count int, total int64, err error) {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO stand_in_cards (issuer, card, seen_ns) VALUES ($1, $2, $3)
		ON CONFLICT (issuer, card) DO UPDATE SET seen_ns = EXCLUDED.seen_ns`, issuer, card, time.Now().UnixNano())
	b.Queue(`SELECT count(*), coalesce(sum(amount), 0)::BIGINT FROM stand_in_uses
		WHERE issuer = $1 AND card = $2 AND time_ns >= $3`, issuer, card, since.UnixNano())
	br := s.tx.SendBatch(s.ctx, b)
	if _, err = br.Exec(); err == nil {
		err = br.QueryRow().Scan(&count, &total)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return count, total, err
}

func (s *pgStandIn) use(issuer string, card []byte, at time.Time, amount int64) error {
	_, err := s.tx.Exec(s.ctx, `INSERT INTO stand_in_uses (issuer, card, time_ns, amount) VALUES ($1, $2, $3, $4)`,
		issuer, card, at.UnixNano(), amount)
	return err
}

// forget deletes in statements of their own, not in the transaction:
// they only collect rows no window counts, so they need not roll back
// with it, and a transaction holding card locks must not also wait for
// rows another node's transaction holds (the cards it decides now are
// skipped, collected by a later pass).
func (s *pgStandIn) forget(issuer string, before time.Time) error {
	if _, err := s.p.pool.Exec(s.ctx, `DELETE FROM stand_in_uses WHERE issuer = $1 AND time_ns < $2`,
		issuer, before.UnixNano()); err != nil {
		return err
	}
	_, err := s.p.pool.Exec(s.ctx, `DELETE FROM stand_in_cards WHERE (issuer, card) IN (
		SELECT issuer, card FROM stand_in_cards WHERE issuer = $1 AND seen_ns < $2 FOR UPDATE SKIP LOCKED)`,
		issuer, before.UnixNano())
	return err
}

// nextSeq takes the day's next number in a statement of its own, as a
// sequence would: a number is never given twice, and one whose
// transaction rolls back is skipped (a gap, never a repeat). Taken in the
// transaction, the day's row would stay locked until its commit: every
// node's stand-in decisions would wait for each other, and deadlock with
// the card locks.
func (s *pgStandIn) nextSeq(day string) (seq int64, err error) {
	err = s.p.pool.QueryRow(s.ctx, `INSERT INTO stand_in_days (day, seq) VALUES ($1, 1)
		ON CONFLICT (day) DO UPDATE SET seq = stand_in_days.seq + 1 RETURNING seq`, day).Scan(&seq)
	return seq, err
}

func (s *pgStandIn) addReversals(rs []*Reversal) error {
	return s.p.addReversals(s.ctx, s.tx, rs)
}

// ExpireAdvices moves issuer's stand-in advices created before before to
// the exception list (marked at now), whichever node stored them, and
// returns how many it moved. Every node runs it; a row moves once.
func (p *PG) ExpireAdvices(issuer string, before, now time.Time) (int64, error) {
	if p.opt.ReadOnly {
		return 0, ErrReadOnly
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgWriteTimeout) // the switch's queue waits for it
	defer cancel()
	tag, err := p.pool.Exec(ctx, `UPDATE reversals SET exception = $1
		WHERE kind = $2 AND issuer = $3 AND exception = 0 AND created < $4`,
		now.UnixNano(), KindStandIn, issuer, before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("journal: expire advices: %w", err)
	}
	return tag.RowsAffected(), nil
}

// AdviceExceptions lists the stand-in advices on the exception list,
// every node's, oldest first, their frames opened (FrameErr when one
// cannot be).
func (p *PG) AdviceExceptions() ([]Reversal, error) {
	return p.reversals(`SELECT `+pgReversalCols+` FROM reversals WHERE kind = $1 AND exception <> 0
		AND key_id = ANY($2) ORDER BY created, id`, KindStandIn, p.keyIDs())
}

// AdviceQueueState counts the stand-in advices of every node: the queue
// is the cluster's (each node's metrics show the same figures).
func (p *PG) AdviceQueueState() (AdviceQueue, error) {
	var q AdviceQueue
	var oldest int64
	err := p.pool.QueryRow(context.Background(), `SELECT
		coalesce(sum(CASE WHEN exception = 0 THEN 1 ELSE 0 END), 0),
		coalesce(min(CASE WHEN exception = 0 THEN created END), 0),
		coalesce(sum(CASE WHEN exception <> 0 THEN 1 ELSE 0 END), 0)
		FROM reversals WHERE kind = $1`, KindStandIn).Scan(&q.Owed, &oldest, &q.Exceptions)
	if err != nil {
		return q, fmt.Errorf("journal: advice queue: %w", err)
	}
	if oldest != 0 {
		q.Oldest = fromNanos(oldest)
	}
	return q, nil
}
