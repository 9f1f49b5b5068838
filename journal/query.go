package journal

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
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

// List returns the entries matching f, newest first: in the reverse of the
// order the journal wrote them, which is the order their answers were
// given. It reads one snapshot of the index, and the log's entries that
// snapshot does not hold yet (tail.go), so a prune or an index
// transaction running meanwhile changes nothing it sees.
func (j *Journal) List(ctx context.Context, f Filter) ([]Entry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	tx, err := j.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("journal: list: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	tail, err := j.openTail(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("journal: list: %w", err)
	}
	defer tail.Close()
	var out []Entry
	err = eachCandidate(ctx, tx, f, func(id int64) (bool, error) {
		page, err := matching(ctx, tx, id, &f)
		for i := len(page) - 1; i >= 0 && len(out) < limit; i-- {
			out = append(out, page[i])
		}
		return len(out) < limit, err
	})
	if err != nil {
		return nil, fmt.Errorf("journal: list: %w", err)
	}
	newest, err := newestInTail(ctx, tail, &f, limit)
	if err != nil {
		return nil, fmt.Errorf("journal: list: %w", err)
	}
	out = append(out, newest...)
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Compare(b.ID, a.ID) })
	return out[:min(len(out), limit)], nil
}

// newestInTail is the limit newest entries of the log's tail that match
// f. The tail is in id order and a lagging index may leave millions of
// entries in it: the last limit matches are kept as records in a ring,
// each slot's buffer reused, and only they are decoded.
func newestInTail(ctx context.Context, tail *logTail, f *Filter, limit int) ([]Entry, error) {
	var ring [][]byte // grows to limit (which may be huge), then wraps
	n := 0
	err := tail.each(ctx, func(r *record) bool {
		if f.match(r) {
			if len(ring) < limit {
				ring = append(ring, append([]byte(nil), r.raw...))
			} else {
				ring[n%limit] = append(ring[n%limit][:0], r.raw...)
			}
			n++
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, min(n, limit))
	for i := max(0, n-limit); i < n; i++ {
		var r record
		if _, err := decodeTrusted(ring[i%limit], &r); err != nil {
			return nil, err
		}
		out = append(out, entryOf(&r))
	}
	return out, nil
}

// eachCandidate calls fn with the first id of each batch row that may hold
// entries matching f, newest first, until fn returns false: rows with an
// entry at or after f.Since and, when f names an RRN or STAN, whose filter
// may hold it.
func eachCandidate(ctx context.Context, tx *sql.Tx, f Filter, fn func(id int64) (bool, error)) error {
	keyed := f.RRN != "" || f.STAN != ""
	q := `SELECT first_id, NULL FROM batches WHERE max_time >= ? ORDER BY first_id DESC`
	if keyed {
		q = `SELECT first_id, keys FROM batches WHERE max_time >= ? ORDER BY first_id DESC`
	}
	rows, err := tx.QueryContext(ctx, q, sinceNanos(f.Since))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var keys []byte
		if err := rows.Scan(&id, &keys); err != nil {
			return err
		}
		if keyed && (f.RRN != "" && !bloom(keys).has(keyRRN, f.RRN) || f.STAN != "" && !bloom(keys).has(keySTAN, f.STAN)) {
			continue
		}
		if more, err := fn(id); err != nil || !more {
			return err
		}
	}
	return rows.Err()
}

// matching decodes one batch row and returns its entries that match f,
// oldest first.
func matching(ctx context.Context, tx *sql.Tx, firstID int64, f *Filter) ([]Entry, error) {
	var b []byte
	if err := tx.QueryRowContext(ctx, `SELECT records FROM batches WHERE first_id = ?`, firstID).Scan(&b); err != nil {
		return nil, fmt.Errorf("read batch %d: %w", firstID, err)
	}
	var page []Entry
	err := eachRowRecord(b, func(r *record) bool {
		if f.match(r) {
			page = append(page, entryOf(r))
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("batch %d: %w", firstID, err)
	}
	return page, nil
}

// match reports whether r passes every field f sets.
func (f *Filter) match(r *record) bool {
	t := &r.texts
	return r.time >= sinceNanos(f.Since) &&
		(f.RRN == "" || string(t[colRRN]) == f.RRN) &&
		(f.STAN == "" || string(t[colSTAN]) == f.STAN) &&
		(f.Issuer == "" || string(t[colIssuer]) == f.Issuer) &&
		(f.Code == "" || string(t[colCode]) == f.Code) &&
		(f.Outcome == "" || string(t[colOutcome]) == string(f.Outcome))
}

// Get returns one entry, from the index or else from the log's tail, or
// a *NotFoundError.
func (j *Journal) Get(ctx context.Context, id int64) (Entry, error) {
	e, err := j.getIndexed(ctx, id)
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		return e, err
	}
	tail, terr := j.openTail(ctx, j.rdb)
	if terr != nil {
		return Entry{}, fmt.Errorf("journal: get: %w", terr)
	}
	defer tail.Close()
	found := false
	terr = tail.each(ctx, func(r *record) bool {
		if r.id == id {
			e, found = entryOf(r), true
		}
		return !found
	})
	if terr != nil {
		return Entry{}, fmt.Errorf("journal: get: %w", terr)
	}
	if found {
		return e, nil
	}
	return Entry{}, err
}

// getIndexed returns one entry from the index, or a *NotFoundError.
func (j *Journal) getIndexed(ctx context.Context, id int64) (Entry, error) {
	var first, last int64
	var b []byte
	err := j.rdb.QueryRowContext(ctx, `SELECT first_id, last_id, records FROM batches
		WHERE first_id <= ? ORDER BY first_id DESC LIMIT 1`, id).Scan(&first, &last, &b)
	if errors.Is(err, sql.ErrNoRows) || err == nil && last < id {
		return Entry{}, &NotFoundError{Kind: "entry", ID: id}
	}
	if err != nil {
		return Entry{}, fmt.Errorf("journal: get: %w", err)
	}
	var e Entry
	found := false
	if err := eachRowRecord(b, func(r *record) bool {
		if r.id == id {
			e, found = entryOf(r), true
		}
		return !found
	}); err != nil {
		return Entry{}, fmt.Errorf("journal: get: batch %d: %w", first, err)
	}
	if !found {
		return Entry{}, &NotFoundError{Kind: "entry", ID: id}
	}
	return e, nil
}

// eachSince calls fn with every entry at or after since (zero: all): the
// index's in id order, then the log's tail's (one snapshot, as List).
func (j *Journal) eachSince(ctx context.Context, since time.Time, fn func(r *record)) error {
	cut := sinceNanos(since)
	tx, err := j.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	tail, err := j.openTail(ctx, tx)
	if err != nil {
		return err
	}
	defer tail.Close()
	rows, err := tx.QueryContext(ctx, `SELECT records FROM batches WHERE max_time >= ? ORDER BY first_id`, cut)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return err
		}
		if err := eachRowRecord(b, func(r *record) bool {
			if r.time >= cut {
				fn(r)
			}
			return true
		}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return tail.each(ctx, func(r *record) bool {
		if r.time >= cut {
			fn(r)
		}
		return true
	})
}
