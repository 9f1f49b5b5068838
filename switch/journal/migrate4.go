package journal

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// moveEntries carries the rows of the entries table (schema 1-3) over into
// batch rows of indexMax entries, in id order, and drops the table.
func moveEntries(ctx context.Context, tx *sql.Tx) error {
	var meta batchMeta
	var buf []byte
	after := int64(0)
	for {
		es, err := oldEntries(ctx, tx, after, indexMax)
		if err != nil || len(es) == 0 {
			if err == nil {
				_, err = tx.ExecContext(ctx, "DROP TABLE entries")
			}
			return err
		}
		buf = buf[:0]
		for i := range es {
			buf = appendRecord(buf, &es[i])
		}
		if err := meta.build(buf, len(es)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertSQL, meta.first, meta.last, meta.count,
			meta.minTime, meta.maxTime, []byte(meta.keys), buf); err != nil {
			return fmt.Errorf("move entries: %w", err)
		}
		after = es[len(es)-1].ID
	}
}

// oldEntries reads up to n rows of the entries table with ids above after.
func oldEntries(ctx context.Context, tx *sql.Tx, after int64, n int) ([]Entry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, time, acquirer, conn, remote, issuer, mti,
		processing_code, amount, currency, stan, rrn, terminal, transmission_time, pan, response_code,
		outcome, reason, latency_us FROM entries WHERE id > ? ORDER BY id LIMIT ?`, after, n)
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
