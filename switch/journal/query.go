package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Filter selects entries for List. Zero fields do not filter.
type Filter struct {
	Since                   time.Time
	RRN, STAN, Issuer, Code string
	Outcome                 Outcome
	Limit                   int // default 100
}

const defaultLimit = 100

const entryCols = `id, time, acquirer, conn, remote, issuer, mti, processing_code, amount, currency,
	stan, rrn, terminal, transmission_time, pan, response_code, outcome, reason, latency_us`

// List returns the entries matching f, newest first.
func (j *Journal) List(ctx context.Context, f Filter) ([]Entry, error) {
	where, args := f.where()
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	rows, err := j.rdb.QueryContext(ctx, f.listSQL(where), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("journal: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: list: %w", err)
	}
	return out, nil
}

// Get returns one entry, or a *NotFoundError.
func (j *Journal) Get(ctx context.Context, id int64) (Entry, error) {
	e, err := scanEntry(j.rdb.QueryRowContext(ctx, `SELECT `+entryCols+` FROM entries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, &NotFoundError{Kind: "entry", ID: id}
	}
	return e, err
}

// bucketSQL enumerates the id buckets the rrn and stan indexes are keyed by
// (schema version 3), so that a lookup probes each bucket's part of the
// index instead of scanning the table.
const bucketSQL = `WITH RECURSIVE buckets(b) AS (SELECT (SELECT MAX(id) FROM entries) >> 14
	UNION ALL SELECT b - 1 FROM buckets WHERE b > (SELECT MIN(id) FROM entries) >> 14) `

func (f Filter) listSQL(where string) string {
	q := `SELECT ` + entryCols + ` FROM entries` + where + ` ORDER BY time DESC, id DESC LIMIT ?`
	if f.RRN != "" || f.STAN != "" {
		q = bucketSQL + q
	}
	return q
}

// where builds the WHERE clause; values are always bound, never inlined.
func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		conds = append(conds, cond)
		args = append(args, v)
	}
	if !f.Since.IsZero() {
		add("time >= ?", f.Since.UnixNano())
	}
	if f.RRN != "" || f.STAN != "" {
		conds = append(conds, "(id >> 14) IN buckets")
	}
	for _, c := range []struct{ col, v string }{
		{"rrn", f.RRN}, {"stan", f.STAN}, {"issuer", f.Issuer}, {"response_code", f.Code}, {"outcome", string(f.Outcome)},
	} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func scanEntry(row interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var t, conn, lat int64
	var outcome string
	err := row.Scan(&e.ID, &t, &e.Acquirer, &conn, &e.Remote, &e.Issuer, &e.MTI, &e.ProcessingCode,
		&e.Amount, &e.Currency, &e.STAN, &e.RRN, &e.Terminal, &e.TransmissionTime, &e.PAN,
		&e.ResponseCode, &outcome, &e.Reason, &lat)
	if errors.Is(err, sql.ErrNoRows) {
		return e, err
	}
	if err != nil {
		return e, fmt.Errorf("journal: read entry: %w", err)
	}
	e.Time, e.Conn, e.Outcome = fromNanos(t), uint64(conn), Outcome(outcome)
	e.Latency = time.Duration(lat) * time.Microsecond
	return e, nil
}
