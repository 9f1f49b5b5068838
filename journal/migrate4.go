package journal

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// moveChunk bounds the entries one step of the move carries: each step is
// its own transaction, followed by a checkpoint, so the WAL stays small
// and a move cut short (a crash, a full disk) resumes at the next Open.
const moveChunk = 16 * indexMax

// moveOldEntries carries the rows of the entries table (schema 1-3) over
// into batch rows, in steps, and drops the table once it is empty.
func (j *Journal) moveOldEntries(ctx context.Context) error {
	old, err := hasOldEntries(ctx, j.wdb)
	if err != nil || !old {
		return err
	}
	var total int64
	if err := j.wdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM entries").Scan(&total); err != nil {
		return fmt.Errorf("journal: migrate to schema 4: %w", err)
	}
	if total > 0 {
		j.opt.Log.Info("journal: moving entries to schema 4 (one row per batch)", "entries", total)
	}
	for moved := int64(0); ; {
		n, err := j.moveStep(ctx)
		if err != nil {
			return fmt.Errorf("journal: migrate to schema 4 (%d of %d entries moved; the next start resumes): %w",
				moved, total, err)
		}
		if n == 0 {
			break
		}
		moved += int64(n)
		if _, err := j.wdb.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return fmt.Errorf("journal: migrate to schema 4: checkpoint: %w", err)
		}
		if moved%(64*moveChunk) < moveChunk || moved == total {
			j.opt.Log.Info("journal: moving entries to schema 4", "moved", moved, "of", total)
		}
	}
	if _, err := j.wdb.ExecContext(ctx, "DROP TABLE entries"); err != nil {
		return fmt.Errorf("journal: migrate to schema 4: %w", err)
	}
	return nil
}

// moveStep moves the moveChunk lowest-id entries in one transaction and
// returns how many it moved.
func (j *Journal) moveStep(ctx context.Context) (int, error) {
	tx, err := j.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	es, err := oldEntries(ctx, tx, moveChunk)
	if err != nil || len(es) == 0 {
		return 0, err
	}
	if err := insertEntries(ctx, tx, es); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM entries WHERE id <= ?", es[len(es)-1].ID); err != nil {
		return 0, err
	}
	return len(es), tx.Commit()
}

// insertEntries stores es (in id order) as batch rows of at most indexMax
// entries with consecutive ids. Ids may have gaps (entries a failed index
// transaction left in a kept log segment): a row never spans one, or
// replay, which skips the ids rows cover, would skip those entries.
func insertEntries(ctx context.Context, tx *sql.Tx, es []Entry) error {
	var meta batchMeta
	var buf []byte
	for len(es) > 0 {
		n := 1
		for n < len(es) && n < indexMax && es[n].ID == es[n-1].ID+1 {
			n++
		}
		buf = buf[:0]
		for i := range es[:n] {
			buf = appendRecord(buf, &es[i])
		}
		if err := insertRowTx(ctx, tx, &meta, buf, n); err != nil {
			return err
		}
		es = es[n:]
	}
	return nil
}

// hasOldEntries reports whether the entries table of schema 1-3 is still
// there (a move in progress, or not begun).
func hasOldEntries(ctx context.Context, db *sql.DB) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'entries'").Scan(&n)
	if err != nil {
		return false, fmt.Errorf("journal: read schema: %w", err)
	}
	return n > 0, nil
}

// oldEntries reads the n lowest-id rows of the entries table.
func oldEntries(ctx context.Context, tx *sql.Tx, n int) ([]Entry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, time, acquirer, conn, remote, issuer, mti,
		processing_code, amount, currency, stan, rrn, terminal, transmission_time, pan, response_code,
		outcome, reason, latency_us FROM entries ORDER BY id LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("move entries: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var t, conn, lat int64
		var outcome string
		if err := rows.Scan(&e.ID, &t, &e.Acquirer, &conn, &e.Remote, &e.Issuer, &e.MTI, &e.ProcessingCode,
			&e.Amount, &e.Currency, &e.STAN, &e.RRN, &e.Terminal, &e.TransmissionTime, &e.PAN,
			&e.ResponseCode, &outcome, &e.Reason, &lat); err != nil {
			return nil, fmt.Errorf("move entries: %w", err)
		}
		e.Time, e.Conn, e.Outcome = fromNanos(t), uint64(conn), Outcome(outcome) // #nosec G115
		e.Latency = time.Duration(lat) * time.Microsecond
		out = append(out, e)
	}
	return out, rows.Err()
}
