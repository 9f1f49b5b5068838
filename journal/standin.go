package journal

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"time"
)

// KindStandIn marks a stored message that is one of the switch's stand-in
// advices (0120): the switch decided for the issuer and owes it the
// advice.
const KindStandIn = "stand-in"

// cardKey derives the stand-in card key from a journal key: a separate
// key (HMAC with a fixed label), so that the card hashes reveal nothing
// of the key that seals stored frames.
func cardKey(k [32]byte) []byte {
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte("cardswitch stand-in card key\x00"))
	return m.Sum(nil)
}

// CardHash is the key a card's stand-in counters are kept under: an
// HMAC-SHA256 of the PAN with the card key (derived from the first
// journal key). Without the key it cannot be reversed, nor checked
// against a guessed PAN. Rotating the journal key (a new first key)
// starts every card's counters afresh. ErrNoKey without keys.
func (j *Journal) CardHash(pan []byte) ([]byte, error) {
	if j.seal == nil || j.seal.card == nil {
		return nil, ErrNoKey
	}
	m := hmac.New(sha256.New, j.seal.card)
	m.Write(pan)
	return m.Sum(nil), nil
}

// StandInTx is one transaction of stand-in decisions: each decision's
// counter update, approval code and advice commit together, or none does.
type StandInTx struct {
	ctx context.Context
	j   *Journal
	tx  *sql.Tx
}

// StandIn runs fn in one write transaction and commits it when fn returns
// nil; on error nothing fn did is stored.
func (j *Journal) StandIn(ctx context.Context, fn func(*StandInTx) error) error {
	if err := j.writable(); err != nil {
		return err
	}
	tx, err := j.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal: stand-in: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(&StandInTx{ctx: ctx, j: j, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal: stand-in: %w", err)
	}
	return nil
}

// Usage is the card's stand-in approvals for issuer since since: how
// many and their total amount.
func (st *StandInTx) Usage(issuer string, card []byte, since time.Time) (count int, total int64, err error) {
	err = st.tx.QueryRowContext(st.ctx, `SELECT count(*), coalesce(sum(amount), 0) FROM stand_in_uses
		WHERE issuer = ? AND card = ? AND time >= ?`, issuer, card, since.UnixNano()).Scan(&count, &total)
	if err != nil {
		return 0, 0, fmt.Errorf("journal: stand-in usage: %w", err)
	}
	return count, total, nil
}

// Use records a stand-in approval against the card's limits.
func (st *StandInTx) Use(issuer string, card []byte, at time.Time, amount int64) error {
	if _, err := st.tx.ExecContext(st.ctx, `INSERT INTO stand_in_uses (issuer, card, time, amount) VALUES (?, ?, ?, ?)`,
		issuer, card, at.UnixNano(), amount); err != nil {
		return fmt.Errorf("journal: stand-in use: %w", err)
	}
	return nil
}

// Forget deletes issuer's approvals older than before: they count
// against no window any more.
func (st *StandInTx) Forget(issuer string, before time.Time) error {
	if _, err := st.tx.ExecContext(st.ctx, `DELETE FROM stand_in_uses WHERE issuer = ? AND time < ?`,
		issuer, before.UnixNano()); err != nil {
		return fmt.Errorf("journal: stand-in forget: %w", err)
	}
	return nil
}

// NextSeq is the next number of day (YYYYMMDD): 1 for its first call
// of the day, then 2, 3, ...; never the same twice for a day, restarts
// included.
func (st *StandInTx) NextSeq(day string) (int64, error) {
	var seq int64
	err := st.tx.QueryRowContext(st.ctx, `INSERT INTO stand_in_days (day, seq) VALUES (?, 1)
		ON CONFLICT (day) DO UPDATE SET seq = seq + 1 RETURNING seq`, day).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("journal: stand-in approval code: %w", err)
	}
	return seq, nil
}

// AddReversals stores rs (sealed) in the transaction; each gets its ID.
func (st *StandInTx) AddReversals(rs []*Reversal) error {
	return st.j.addReversalsTx(st.ctx, st.tx, rs)
}

// ExpireAdvices moves issuer's stand-in advices created before before to
// the exception list (marked at now) and returns how many it moved.
func (j *Journal) ExpireAdvices(issuer string, before, now time.Time) (int64, error) {
	if err := j.writable(); err != nil {
		return 0, err
	}
	res, err := j.wdb.ExecContext(context.Background(), `UPDATE reversals SET exception = ?
		WHERE kind = ? AND issuer = ? AND exception = 0 AND created < ?`,
		now.UnixNano(), KindStandIn, issuer, before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("journal: expire advices: %w", err)
	}
	return res.RowsAffected()
}

// AdviceExceptions lists the stand-in advices on the exception list,
// oldest first, their frames opened (FrameErr when one cannot be).
func (j *Journal) AdviceExceptions() ([]Reversal, error) {
	return j.reversals(`SELECT `+reversalCols+` FROM reversals WHERE kind = ? AND exception != 0
		AND key_id IN (`+j.seal.inIDs+`) ORDER BY id`, KindStandIn)
}

// AdviceQueue is the state of the stand-in advices: owed (not on the
// exception list), the creation time of the oldest owed (zero when none),
// and on the exception list.
type AdviceQueue struct {
	Owed       int
	Oldest     time.Time
	Exceptions int
}

// AdviceQueueState counts the stand-in advices.
func (j *Journal) AdviceQueueState() (AdviceQueue, error) {
	var q AdviceQueue
	var oldest int64
	err := j.rdb.QueryRowContext(context.Background(), `SELECT
		coalesce(sum(exception = 0), 0), coalesce(min(CASE WHEN exception = 0 THEN created END), 0),
		coalesce(sum(exception != 0), 0) FROM reversals WHERE kind = ?`, KindStandIn).Scan(&q.Owed, &oldest, &q.Exceptions)
	if err != nil {
		return q, fmt.Errorf("journal: advice queue: %w", err)
	}
	if oldest != 0 {
		q.Oldest = fromNanos(oldest)
	}
	return q, nil
}
