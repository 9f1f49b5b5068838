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
func (j *Journal) CardHash(pan []byte) ([]byte, error) { return j.seal.cardHash(pan) }

func (s *sealer) cardHash(pan []byte) ([]byte, error) {
	if s == nil || s.card == nil {
		return nil, ErrNoKey
	}
	m := hmac.New(sha256.New, s.card)
	m.Write(pan)
	return m.Sum(nil), nil
}

// StandInTx is one transaction of stand-in decisions: each decision's
// counter update, approval code and advice commit together, or none does.
type StandInTx struct {
	b standInTx
}

// standInTx is what a backend does for a StandInTx: the SQLite journal
// (sqliteStandIn, below) and PostgreSQL (pgStandIn, pg_standin.go).
type standInTx interface {
	usage(issuer string, card []byte, since time.Time) (count int, total int64, err error)
	use(issuer string, card []byte, at time.Time, amount int64) error
	forget(issuer string, before time.Time) error
	nextSeq(day string) (int64, error)
	addReversals(rs []*Reversal) error
}

// StandIn runs fn in one write transaction and commits it when fn returns
// nil; on error nothing fn did is stored. fn must start afresh on each
// call: a backend may run it again (PostgreSQL, after a deadlock).
func (j *Journal) StandIn(ctx context.Context, fn func(*StandInTx) error) error {
	if err := j.writable(); err != nil {
		return err
	}
	tx, err := j.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal: stand-in: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(&StandInTx{b: &sqliteStandIn{ctx: ctx, j: j, tx: tx}}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal: stand-in: %w", err)
	}
	return nil
}

// Usage is the card's stand-in approvals for issuer since since: how
// many and their total amount. On PostgreSQL it first locks the card
// (pg_standin.go), so that no other node decides for it before this
// transaction ends.
func (st *StandInTx) Usage(issuer string, card []byte, since time.Time) (count int, total int64, err error) {
	if count, total, err = st.b.usage(issuer, card, since); err != nil {
		return 0, 0, fmt.Errorf("journal: stand-in usage: %w", err)
	}
	return count, total, nil
}

// Use records a stand-in approval against the card's limits.
func (st *StandInTx) Use(issuer string, card []byte, at time.Time, amount int64) error {
	if err := st.b.use(issuer, card, at, amount); err != nil {
		return fmt.Errorf("journal: stand-in use: %w", err)
	}
	return nil
}

// Forget deletes issuer's approvals older than before: they count
// against no window any more.
func (st *StandInTx) Forget(issuer string, before time.Time) error {
	if err := st.b.forget(issuer, before); err != nil {
		return fmt.Errorf("journal: stand-in forget: %w", err)
	}
	return nil
}

// NextSeq is the next number of day (YYYYMMDD): 1 for its first call
// of the day, then 2, 3, ...; never the same twice for a day, restarts
// (and, on PostgreSQL, nodes) included.
func (st *StandInTx) NextSeq(day string) (int64, error) {
	seq, err := st.b.nextSeq(day)
	if err != nil {
		return 0, fmt.Errorf("journal: stand-in approval code: %w", err)
	}
	return seq, nil
}

// AddReversals stores rs (sealed) in the transaction; each gets its ID.
func (st *StandInTx) AddReversals(rs []*Reversal) error {
	return st.b.addReversals(rs)
}

// sqliteStandIn is a StandInTx on the SQLite journal: its one writer
// connection serializes every transaction, so reading a card's usage
// needs no lock.
type sqliteStandIn struct {
	ctx context.Context
	j   *Journal
	tx  *sql.Tx
}

func (s *sqliteStandIn) usage(issuer string, card []byte, since time.Time) (count int, total int64, err error) {
	err = s.tx.QueryRowContext(s.ctx, `SELECT count(*), coalesce(sum(amount), 0) FROM stand_in_uses
		WHERE issuer = ? AND card = ? AND time >= ?`, issuer, card, since.UnixNano()).Scan(&count, &total)
	return count, total, err
}

func (s *sqliteStandIn) use(issuer string, card []byte, at time.Time, amount int64) error {
	_, err := s.tx.ExecContext(s.ctx, `INSERT INTO stand_in_uses (issuer, card, time, amount) VALUES (?, ?, ?, ?)`,
		issuer, card, at.UnixNano(), amount)
	return err
}

func (s *sqliteStandIn) forget(issuer string, before time.Time) error {
	_, err := s.tx.ExecContext(s.ctx, `DELETE FROM stand_in_uses WHERE issuer = ? AND time < ?`,
		issuer, before.UnixNano())
	return err
}

func (s *sqliteStandIn) nextSeq(day string) (seq int64, err error) {
	err = s.tx.QueryRowContext(s.ctx, `INSERT INTO stand_in_days (day, seq) VALUES (?, 1)
		ON CONFLICT (day) DO UPDATE SET seq = seq + 1 RETURNING seq`, day).Scan(&seq)
	return seq, err
}

func (s *sqliteStandIn) addReversals(rs []*Reversal) error {
	return s.j.addReversalsTx(s.ctx, s.tx, rs)
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
