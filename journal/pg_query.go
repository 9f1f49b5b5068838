package journal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

const pgSelectEntry = `SELECT id, time_ns, acquirer, conn, remote, issuer, mti, pcode, amount, currency, stan, rrn,
	terminal, tx_time, pan, code, outcome, reason, latency_us, acq_dialect, iss_dialect, node FROM entries `

// scanEntry reads one row of pgSelectEntry.
func scanEntry(row pgx.Row) (Entry, error) {
	var e Entry
	var tns, conn, lat int64
	var outcome string
	err := row.Scan(&e.ID, &tns, &e.Acquirer, &conn, &e.Remote, &e.Issuer, &e.MTI, &e.ProcessingCode, &e.Amount,
		&e.Currency, &e.STAN, &e.RRN, &e.Terminal, &e.TransmissionTime, &e.PAN, &e.ResponseCode, &outcome,
		&e.Reason, &lat, &e.AcquirerDialect, &e.IssuerDialect, &e.Node)
	e.Time, e.Conn, e.Latency, e.Outcome = fromNanos(tns), uint64(conn), time.Duration(lat)*time.Microsecond, // #nosec G115 -- bits
		Outcome(outcome)
	return e, err
}

// List returns the entries matching f, newest first: in the reverse of
// the order they were written (every node's).
func (p *PG) List(ctx context.Context, f Filter) ([]Entry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	rows, err := p.pool.Query(ctx, pgSelectEntry+`WHERE time_ns >= $1 AND ($2 = '' OR rrn = $2)
		AND ($3 = '' OR stan = $3) AND ($4 = '' OR issuer = $4) AND ($5 = '' OR code = $5)
		AND ($6 = '' OR outcome = $6) ORDER BY written_ns DESC, id DESC LIMIT $7`,
		sinceNanos(f.Since), f.RRN, f.STAN, f.Issuer, f.Code, string(f.Outcome), limit)
	if err != nil {
		return nil, fmt.Errorf("journal: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) { return scanEntry(r) })
	if err != nil {
		return nil, fmt.Errorf("journal: list: %w", err)
	}
	return out, nil
}

// Get returns one entry, or a *NotFoundError.
func (p *PG) Get(ctx context.Context, id int64) (Entry, error) {
	e, err := scanEntry(p.pool.QueryRow(ctx, pgSelectEntry+`WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Entry{}, &NotFoundError{Kind: "entry", ID: id}
	}
	if err != nil {
		return Entry{}, fmt.Errorf("journal: get: %w", err)
	}
	return e, nil
}

// Stats counts entries at or after since, as (*Journal).Stats does.
func (p *PG) Stats(ctx context.Context, since time.Time) (Stats, error) {
	st := Stats{Since: since}
	byIssuer, byCode, byNode := map[string]*group{}, map[string]*group{}, map[string]*group{}
	rows, err := p.pool.Query(ctx, `SELECT outcome, code, issuer, reason, latency_us, node FROM entries
		WHERE time_ns >= $1`, sinceNanos(since))
	if err != nil {
		return st, fmt.Errorf("journal: stats: %w", err)
	}
	var outcome, code, issuer, reason, node string
	var lat int64
	_, err = pgx.ForEachRow(rows, []any{&outcome, &code, &issuer, &reason, &lat, &node}, func() error {
		ok := outcome == string(Approved)
		st.Total++
		if ok {
			st.Approved++
		}
		st.countStandInText(Outcome(outcome), code, reason)
		d := time.Duration(lat) * time.Microsecond
		add(byIssuer, []byte(issuer), d, ok)
		add(byCode, []byte(code), d, ok)
		add(byNode, []byte(node), d, ok)
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("journal: stats: %w", err)
	}
	if st.Total > 0 {
		st.ApprovalRate = float64(st.Approved) / float64(st.Total)
	}
	st.ByIssuer, st.ByCode, st.ByNode = summarise(byIssuer), summarise(byCode), summarise(byNode)
	return st, nil
}

// countStandInText is countStandIn for a row's texts.
func (st *Stats) countStandInText(o Outcome, code, reason string) {
	switch o {
	case StandIn:
		st.StandIn++
		if code == "00" {
			st.StandInApproved++
		}
	case Late:
		if strings.HasPrefix(reason, "stand-in ") {
			st.LateAfterStandIn++
			if strings.Contains(reason, " disagreed:") {
				st.LateDisagreed++
			}
		}
	}
}

// RecentKeys returns the keys of every node's entries at or after since,
// oldest first, excluding entries answered as duplicates.
func (p *PG) RecentKeys(since time.Time) ([]DupKey, error) {
	ctx := context.Background()
	rows, err := p.pool.Query(ctx, `SELECT acquirer, stan, terminal, rrn, tx_time, mti, time_ns, code, outcome
		FROM entries WHERE time_ns >= $1 AND outcome <> $2 ORDER BY written_ns, id`,
		sinceNanos(since), string(Duplicate))
	if err != nil {
		return nil, fmt.Errorf("journal: recent keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DupKey, error) {
		var k DupKey
		var tns int64
		var outcome string
		err := r.Scan(&k.Acquirer, &k.STAN, &k.Terminal, &k.RRN, &k.TransmissionTime, &k.MTI, &tns,
			&k.ResponseCode, &outcome)
		k.Time, k.Outcome = fromNanos(tns), Outcome(outcome)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("journal: recent keys: %w", err)
	}
	slices.SortStableFunc(out, func(a, b DupKey) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// pgPruneChunk bounds the rows one DELETE removes, so that pruning never
// holds a long transaction against the nodes' writes.
const pgPruneChunk = 10000

// Prune deletes every node's entries older than before, in short
// transactions, and returns how many it deleted. Reversals are never
// pruned.
func (p *PG) Prune(ctx context.Context, before time.Time) (int64, error) {
	if p.opt.ReadOnly {
		return 0, ErrReadOnly
	}
	var total int64
	for {
		tag, err := p.pool.Exec(ctx, `DELETE FROM entries WHERE id IN
			(SELECT id FROM entries WHERE time_ns < $1 LIMIT $2)`, before.UnixNano(), pgPruneChunk)
		if err != nil {
			return total, fmt.Errorf("journal: prune: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pgPruneChunk {
			return total, nil
		}
	}
}
