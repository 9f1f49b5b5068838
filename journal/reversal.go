package journal

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Reversal is a stored 0420 advice owed to an issuer (store-and-forward).
// Its frame is sealed (seal.go) before it is written and opened when it
// is read: on disk it exists only encrypted.
type Reversal struct {
	ID          int64
	Created     time.Time
	Issuer      string
	EntryID     int64 // the journal entry it reverses (may commit after the reversal)
	STAN, RRN   string
	Frame       []byte // packed 0420 (or acquirer's advice): its PAN in 2, but NO track/PIN/ICC data (the switch guarantees it)
	Attempts    int
	NextAttempt time.Time
	LastError   string
	// Kind is KindStandIn for the switch's stand-in advices (0120), ""
	// for reversals and acquirers' advices.
	Kind string
	// Exception is when a stand-in advice past its issuer's advice_ttl
	// moved to the exception list (zero while owed): it is no longer
	// sent, and stays stored, sealed, for an operator.
	Exception time.Time
	// FrameErr says why Frame could not be opened (nil then): damaged, or
	// moved from another row. Rows whose key is gone are not listed as
	// due at all (LockedReversals).
	FrameErr error
}

const reversalCols = `id, created, issuer, entry_id, stan, rrn, frame, attempts, next_attempt, last_error, kind, exception`

// AddReversal stores r and returns its id (also set in r.ID); it is durable
// when AddReversal returns. A zero Created is now; a zero NextAttempt is
// Created (due at once).
func (j *Journal) AddReversal(ctx context.Context, r *Reversal) (int64, error) {
	if err := j.AddReversals(ctx, []*Reversal{r}); err != nil {
		return 0, err
	}
	return r.ID, nil
}

// AddReversals stores several reversals in one transaction (a mass
// timeout stores hundreds at once); each gets its ID. All are durable when
// it returns, or none is stored. The ids are chosen here, before the
// insert, because each frame is sealed to its row's id.
func (j *Journal) AddReversals(ctx context.Context, rs []*Reversal) error {
	if err := j.writable(); err != nil {
		return err
	}
	tx, err := j.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal: add reversals: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := j.addReversalsTx(ctx, tx, rs); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal: add reversals: %w", err)
	}
	return nil
}

// addReversalsTx inserts rs in tx and sets their IDs (meaningful once tx
// commits).
func (j *Journal) addReversalsTx(ctx context.Context, tx *sql.Tx, rs []*Reversal) error {
	// The highest id ever given (AUTOINCREMENT's record), or ever present.
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'reversals'), 0),
		coalesce((SELECT max(id) FROM reversals), 0))`).Scan(&last); err != nil {
		return fmt.Errorf("journal: add reversals: %w", err)
	}
	for i, r := range rs {
		if r.Created.IsZero() {
			r.Created = time.Now()
		}
		if r.NextAttempt.IsZero() {
			r.NextAttempt = r.Created
		}
		id := last + 1 + int64(i)
		kid, sealed, err := j.seal.seal(r.Frame, id, r.Created.UnixNano(), r.Issuer)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reversals (id, created, issuer, entry_id, stan, rrn, frame,
			key_id, attempts, next_attempt, last_error, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, r.Created.UnixNano(), r.Issuer, r.EntryID, r.STAN, r.RRN, sealed, kid, r.Attempts,
			r.NextAttempt.UnixNano(), r.LastError, r.Kind); err != nil {
			return fmt.Errorf("journal: add reversals: %w", err)
		}
	}
	for i, r := range rs {
		r.ID = last + 1 + int64(i)
	}
	return nil
}

// DueReversals lists reversals owed whose NextAttempt <= now, oldest
// first; limit <= 0 means no limit. Reversals sealed with a key that is
// not configured are left out (LockedReversals lists them): they could
// not be sent, and must not hold up the others.
func (j *Journal) DueReversals(now time.Time, limit int) ([]Reversal, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	return j.reversals(`SELECT `+reversalCols+` FROM reversals
		WHERE next_attempt <= ? AND exception = 0 AND key_id IN (`+j.seal.inIDs+`) ORDER BY id LIMIT ?`, now.UnixNano(), limit)
}

// DueReversalsOf is DueReversals for one issuer's reversals: the switch
// sends each issuer's at its own rate, so one issuer's backlog must not
// keep another's waiting behind it.
func (j *Journal) DueReversalsOf(issuer string, now time.Time, limit int) ([]Reversal, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	return j.reversals(`SELECT `+reversalCols+` FROM reversals
		WHERE next_attempt <= ? AND issuer = ? AND exception = 0 AND key_id IN (`+j.seal.inIDs+`) ORDER BY id LIMIT ?`,
		now.UnixNano(), issuer, limit)
}

// PendingReversals lists every reversal owed whose key is configured,
// oldest first.
func (j *Journal) PendingReversals() ([]Reversal, error) {
	return j.reversals(`SELECT ` + reversalCols + ` FROM reversals WHERE key_id IN (` +
		j.seal.inIDs + `) ORDER BY id`)
}

// LockedReversals lists the reversals owed that were sealed with a key no
// longer configured, oldest first, without their frames; FrameErr is a
// *KeyGoneError naming the key. They stay stored, untouched, until their
// key is configured again.
func (j *Journal) LockedReversals() ([]Reversal, error) {
	rows, err := j.rdb.QueryContext(context.Background(), `SELECT id, created, issuer, entry_id, stan, rrn, attempts,
		key_id FROM reversals WHERE key_id NOT IN (`+j.seal.inIDs+`) ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("journal: list reversals: %w", err)
	}
	defer rows.Close()
	var out []Reversal
	for rows.Next() {
		var r Reversal
		var created int64
		var kid uint32
		if err := rows.Scan(&r.ID, &created, &r.Issuer, &r.EntryID, &r.STAN, &r.RRN, &r.Attempts, &kid); err != nil {
			return nil, fmt.Errorf("journal: read reversal: %w", err)
		}
		r.Created, r.FrameErr = fromNanos(created), &KeyGoneError{KeyID: kid}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: list reversals: %w", err)
	}
	return out, nil
}

// ReversalAttempted records a failed or unanswered send: one more attempt,
// the next one not before next. An acked reversal is gone: NotFoundError.
func (j *Journal) ReversalAttempted(id int64, next time.Time, lastErr string) error {
	if err := j.writable(); err != nil {
		return err
	}
	res, err := j.wdb.ExecContext(context.Background(), `UPDATE reversals SET
		attempts = attempts + 1, next_attempt = ?, last_error = ?
		WHERE id = ?`, next.UnixNano(), lastErr, id)
	return checkOne(res, err, "reversal attempted", "reversal", id)
}

// ReversalRepeated is ReversalAttempted for an attempt that went out to
// the issuer: frame, the message as its next attempts send it (marked as
// a repeat, 0421), replaces r's stored frame, sealed to r's row like the
// first. An acked reversal is gone: NotFoundError.
func (j *Journal) ReversalRepeated(r *Reversal, frame []byte, next time.Time, lastErr string) error {
	if err := j.writable(); err != nil {
		return err
	}
	kid, sealed, err := j.seal.seal(frame, r.ID, r.Created.UnixNano(), r.Issuer)
	if err != nil {
		return err
	}
	res, err := j.wdb.ExecContext(context.Background(), `UPDATE reversals SET
		attempts = attempts + 1, next_attempt = ?, last_error = ?, frame = ?, key_id = ?
		WHERE id = ?`, next.UnixNano(), lastErr, sealed, kid, r.ID)
	return checkOne(res, err, "reversal attempted", "reversal", r.ID)
}

// ReversalAcked records the issuer's 0430: the reversal is no longer owed,
// and its row, sealed frame and all, is deleted (the caller journals the
// ack as an entry). The writer connection runs with secure_delete=FAST
// (open.go), so the row's bytes in its page are zeroed, not just unlinked.
// A second ack finds nothing: NotFoundError.
func (j *Journal) ReversalAcked(id int64, _ string) error {
	if err := j.writable(); err != nil {
		return err
	}
	res, err := j.wdb.ExecContext(context.Background(), `DELETE FROM reversals WHERE id = ?`, id)
	return checkOne(res, err, "reversal acked", "reversal", id)
}

// ReversalCount is the number of reversals still owed, LockedReversals
// included.
func (j *Journal) ReversalCount() (pending int, err error) {
	err = j.rdb.QueryRowContext(context.Background(),
		`SELECT count(*) FROM reversals`).Scan(&pending)
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
		r, err := j.scanReversal(rows)
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

func (j *Journal) scanReversal(rows *sql.Rows) (Reversal, error) {
	var r Reversal
	var created, next, exception int64
	var sealed []byte
	err := rows.Scan(&r.ID, &created, &r.Issuer, &r.EntryID, &r.STAN, &r.RRN, &sealed, &r.Attempts,
		&next, &r.LastError, &r.Kind, &exception)
	if err != nil {
		return r, fmt.Errorf("journal: read reversal: %w", err)
	}
	r.Created, r.NextAttempt = fromNanos(created), fromNanos(next)
	if exception != 0 {
		r.Exception = fromNanos(exception)
	}
	r.Frame, r.FrameErr = j.seal.open(sealed, r.ID, created, r.Issuer)
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
