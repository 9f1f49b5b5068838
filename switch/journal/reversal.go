package journal

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Reversal is a stored 0420 advice owed to an issuer (store-and-forward).
type Reversal struct {
	ID          int64
	Created     time.Time
	Issuer      string
	EntryID     int64 // the journal entry it reverses (may commit after the reversal)
	STAN, RRN   string
	Frame       []byte // packed 0420; contains NO PAN/track/PIN: the switch guarantees it
	Attempts    int
	NextAttempt time.Time
	LastError   string
	Acked       bool
	AckCode     string
	AckedAt     time.Time
}

const reversalCols = `id, created, issuer, entry_id, stan, rrn, frame, attempts, next_attempt,
	last_error, acked, ack_code, acked_at`

// AddReversal stores r and returns its id (also set in r.ID); it is durable
// when AddReversal returns. A zero Created is now; a zero NextAttempt is
// Created (due at once).
func (j *Journal) AddReversal(ctx context.Context, r *Reversal) (int64, error) {
	if err := j.writable(); err != nil {
		return 0, err
	}
	if r.Created.IsZero() {
		r.Created = time.Now()
	}
	if r.NextAttempt.IsZero() {
		r.NextAttempt = r.Created
	}
	res, err := j.wdb.ExecContext(ctx, `INSERT INTO reversals (created, issuer, entry_id, stan, rrn, frame,
		attempts, next_attempt, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Created.UnixNano(), r.Issuer, r.EntryID, r.STAN, r.RRN, nonNil(r.Frame), r.Attempts,
		r.NextAttempt.UnixNano(), r.LastError)
	if err != nil {
		return 0, fmt.Errorf("journal: add reversal: %w", err)
	}
	if r.ID, err = res.LastInsertId(); err != nil {
		return 0, fmt.Errorf("journal: add reversal: %w", err)
	}
	return r.ID, nil
}

// AddReversals stores several reversals in one transaction (a mass
// timeout stores hundreds at once); each gets its ID. All are durable when
// it returns, or none is stored.
func (j *Journal) AddReversals(ctx context.Context, rs []*Reversal) error {
	if err := j.writable(); err != nil {
		return err
	}
	tx, err := j.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal: add reversals: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, r := range rs {
		if r.Created.IsZero() {
			r.Created = time.Now()
		}
		if r.NextAttempt.IsZero() {
			r.NextAttempt = r.Created
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO reversals (created, issuer, entry_id, stan, rrn, frame,
			attempts, next_attempt, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Created.UnixNano(), r.Issuer, r.EntryID, r.STAN, r.RRN, nonNil(r.Frame), r.Attempts,
			r.NextAttempt.UnixNano(), r.LastError)
		if err != nil {
			return fmt.Errorf("journal: add reversals: %w", err)
		}
		if r.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("journal: add reversals: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal: add reversals: %w", err)
	}
	return nil
}

// DueReversals lists reversals not acked whose NextAttempt <= now, oldest
// first; limit <= 0 means no limit.
func (j *Journal) DueReversals(now time.Time, limit int) ([]Reversal, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	return j.reversals(`SELECT `+reversalCols+` FROM reversals
		WHERE acked = 0 AND next_attempt <= ? ORDER BY id LIMIT ?`, now.UnixNano(), limit)
}

// DueReversalsOf is DueReversals for one issuer's reversals: the switch
// sends each issuer's at its own rate, so one issuer's backlog must not
// keep another's waiting behind it.
func (j *Journal) DueReversalsOf(issuer string, now time.Time, limit int) ([]Reversal, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	return j.reversals(`SELECT `+reversalCols+` FROM reversals
		WHERE acked = 0 AND next_attempt <= ? AND issuer = ? ORDER BY id LIMIT ?`, now.UnixNano(), issuer, limit)
}

// PendingReversals lists every reversal not yet acked, oldest first.
func (j *Journal) PendingReversals() ([]Reversal, error) {
	return j.reversals(`SELECT ` + reversalCols + ` FROM reversals WHERE acked = 0 ORDER BY id`)
}

// ReversalAttempted records a failed or unanswered send: one more attempt,
// the next one not before next. A no-op on an acked reversal.
func (j *Journal) ReversalAttempted(id int64, next time.Time, lastErr string) error {
	if err := j.writable(); err != nil {
		return err
	}
	res, err := j.wdb.ExecContext(context.Background(), `UPDATE reversals SET
		attempts = attempts + CASE WHEN acked = 0 THEN 1 ELSE 0 END,
		next_attempt = CASE WHEN acked = 0 THEN ? ELSE next_attempt END,
		last_error = CASE WHEN acked = 0 THEN ? ELSE last_error END
		WHERE id = ?`, next.UnixNano(), lastErr, id)
	return checkOne(res, err, "reversal attempted", "reversal", id)
}

// ReversalAcked records the issuer's 0430: the reversal is no longer owed.
// Acking twice keeps the first ack.
func (j *Journal) ReversalAcked(id int64, code string) error {
	if err := j.writable(); err != nil {
		return err
	}
	res, err := j.wdb.ExecContext(context.Background(), `UPDATE reversals SET
		ack_code = CASE WHEN acked = 0 THEN ? ELSE ack_code END,
		acked_at = CASE WHEN acked = 0 THEN ? ELSE acked_at END,
		acked = 1
		WHERE id = ?`, code, time.Now().UnixNano(), id)
	return checkOne(res, err, "reversal acked", "reversal", id)
}

// ReversalCount is the number of reversals still owed.
func (j *Journal) ReversalCount() (pending int, err error) {
	err = j.rdb.QueryRowContext(context.Background(),
		`SELECT count(*) FROM reversals WHERE acked = 0`).Scan(&pending)
	if err != nil {
		return 0, fmt.Errorf("journal: count reversals: %w", err)
	}
	return pending, nil
}

func (j *Journal) reversals(query string, args ...any) ([]Reversal, error) {
	rows, err := j.rdb.QueryContext(context.Background(), query, args...)
	if err != nil {
		return nil, fmt.Errorf("journal: list reversals: %w", err)
	}
	defer rows.Close()
	var out []Reversal
	for rows.Next() {
		r, err := scanReversal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: list reversals: %w", err)
	}
	return out, nil
}

func scanReversal(rows *sql.Rows) (Reversal, error) {
	var r Reversal
	var created, next, ackedAt int64
	err := rows.Scan(&r.ID, &created, &r.Issuer, &r.EntryID, &r.STAN, &r.RRN, &r.Frame, &r.Attempts,
		&next, &r.LastError, &r.Acked, &r.AckCode, &ackedAt)
	if err != nil {
		return r, fmt.Errorf("journal: read reversal: %w", err)
	}
	r.Created, r.NextAttempt = fromNanos(created), fromNanos(next)
	if ackedAt != 0 {
		r.AckedAt = fromNanos(ackedAt)
	}
	return r, nil
}

// writable reports why writes are impossible, if they are.
func (j *Journal) writable() error {
	if j.readOnly() {
		return ErrReadOnly
	}
	j.st.mu.Lock()
	defer j.st.mu.Unlock()
	if j.st.closed {
		return ErrClosed
	}
	return nil
}

// nonNil keeps the NOT NULL frame column happy for an empty frame.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
