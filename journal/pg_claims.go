package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Duplicates across nodes: each node's switch keeps its own duplicate
// window in memory, which sees only the requests that node received. The
// database decides between nodes: a request's in-flight record carries its
// duplicate key (Sent.Claim), and the write that commits the record first
// claims the key in the dupclaims table (primary key: the key), with
// INSERT ... ON CONFLICT, in the same transaction. So the claim costs no
// round trip of its own: it rides with the group commit that the link's
// writer waits for before the request goes out. A key claimed by any node
// within the window is not claimed again: that request is a duplicate and
// its record is not written; the link's writer drops it (ClaimResult) and
// the switch answers 94. A key older than the window is taken over by the
// new claim. A claim whose request did not go out after all (StageDone) is
// released in a later write: its retry may be sent, by any node.

// ErrClaimed is ClaimResult's answer for a request another node (or an
// earlier request) claimed within the duplicate window: a duplicate.
var ErrClaimed = errors.New("duplicate transmission: its key is claimed within journal.duplicate_window")

// ErrClaimUnknown is ClaimResult's answer when the write carrying the
// claim failed (the database unreachable): whether another node has the
// request cannot be known, so it is not sent (the switch answers 91).
var ErrClaimUnknown = errors.New("duplicate check across nodes failed: the database did not take the claim")

// AppendClaimKey appends the duplicate key of a request to dst: the
// fields the switch's duplicate window compares (acquirer, message class,
// STAN, terminal, RRN, transmission date-time), each ended by a 0 byte.
// None holds card data (the entry's columns hold the same values).
func AppendClaimKey(dst []byte, acquirer string, class, stan, terminal, rrn, txTime []byte) []byte {
	dst = append(append(dst, acquirer...), 0)
	for _, f := range [...][]byte{class, stan, terminal, rrn, txTime} {
		dst = append(append(dst, f...), 0)
	}
	return dst
}

// pgClaim is a claim staged with an in-flight record.
type pgClaim struct {
	seq  int64
	at   int64 // the request's arrival, unix nanos
	link int64 // the link STAN the issuer sees, for a reversal on another node (ClaimedLink)
	key  []byte
}

// SetDupWindow sets how long a claimed key stays claimed
// (journal.duplicate_window; a reload may change it).
func (p *PG) SetDupWindow(d time.Duration) { p.dupWindow.Store(int64(d)) }

// ClaimResult says whether the request recorded under seq (StageSent)
// may go out, once the ticket StageSent gave is committed: nil when its
// claim was taken (or it had none), ErrClaimed for a duplicate,
// ErrClaimUnknown when the write failed. Each seq's result is given once.
func (p *PG) ClaimResult(seq uint32) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.claimErrs[seq]
	if ok {
		delete(p.claimErrs, seq)
	}
	return r.err
}

// claimErr is a claim's result waiting for ClaimResult, and when the
// write that decided it ended.
type claimErr struct {
	err error
	at  int64 // unix ns
}

// claimResultTTL is how long a claim's result waits for ClaimResult. A
// frame is vetted within milliseconds of its write; one never vetted (its
// link closed first) would otherwise keep its result for good, and a
// database outage with links failing would add one per request.
const claimResultTTL = time.Minute

// forgetClaimResults drops the results of claims decided before before
// (heartbeats call it).
func (p *PG) forgetClaimResults(before time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for seq, r := range p.claimErrs {
		if r.at < before.UnixNano() {
			delete(p.claimErrs, seq)
		}
	}
}

// claimLosers records, after a write (err its failure), the claims of b
// that were not taken (lost: their seqs). p.mu held.
func (p *PG) claimLosers(b *pgBatch, lost map[int64]bool, err error) {
	now := time.Now().UnixNano()
	for _, c := range b.claims {
		switch {
		case err != nil:
			p.claimErrs[uint32(c.seq)] = claimErr{ErrClaimUnknown, now} // #nosec G115 -- a seq is a uint32
		case lost[c.seq]:
			p.claimErrs[uint32(c.seq)] = claimErr{ErrClaimed, now} // #nosec G115 -- a seq is a uint32
		}
	}
}

// pgClaimAndRecordSQL claims a write's keys and writes the in-flight
// records of the requests whose claims won (and of those without a
// claim: $10 lists the seqs with one; an empty array may come as NULL),
// in one statement, so that the claims' outcome needs no round trip
// before the records: it returns the seqs that won. A key claimed within the window ($7: older claims are
// taken over) is not claimed again.
const pgClaimAndRecordSQL = `WITH won AS (INSERT INTO dupclaims (key, node, run, seq, at_ns, link_stan)
		SELECT k, $1, $2, s, a, l FROM unnest($3::bytea[], $4::bigint[], $5::bigint[], $6::bigint[]) AS u(k, s, a, l)
		ON CONFLICT (key) DO UPDATE SET node = excluded.node, run = excluded.run, seq = excluded.seq,
			at_ns = excluded.at_ns, link_stan = excluded.link_stan
		WHERE dupclaims.at_ns < $7
		RETURNING seq),
	rec AS (INSERT INTO inflight (node, run, seq, record)
		SELECT $1, $2, s, r FROM unnest($8::bigint[], $9::bytea[]) AS u(s, r)
		WHERE s <> ALL(coalesce($10::bigint[], '{}')) OR s IN (SELECT seq FROM won))
	SELECT seq FROM won`

// pgClaimArgs are pgClaimAndRecordSQL's arguments, kept with their batch
// from one write to the next (reset); passed as pointers, which cost no
// allocation in an interface.
type pgClaimArgs struct {
	node                               string
	run, expired                       int64
	keys, recs                         [][]byte
	seqs, ats, links, claimed, recSeqs []int64
	argv                               []any
}

func (a *pgClaimArgs) reset() {
	clear(a.keys)
	clear(a.recs)
	a.keys, a.recs, a.seqs, a.ats, a.links, a.claimed, a.recSeqs = a.keys[:0], a.recs[:0], a.seqs[:0],
		a.ats[:0], a.links[:0], a.claimed[:0], a.recSeqs[:0]
}

// claimArgs returns pgClaimAndRecordSQL's arguments for b, and the seqs
// of its claims, all lost until the statement returns those that won.
// Keys go in sorted, so that two nodes' writes lock shared keys in one
// order and cannot deadlock; a key twice in b loses its second claim (one
// INSERT cannot touch a row twice).
func (p *PG) claimArgs(b *pgBatch) (lost map[int64]bool, args []any) {
	slices.SortStableFunc(b.claims, func(x, y pgClaim) int { return bytes.Compare(x.key, y.key) })
	a := &b.ca
	lost = make(map[int64]bool, len(b.claims))
	for i, c := range b.claims {
		lost[c.seq] = true // until the statement returns it
		a.claimed = append(a.claimed, c.seq)
		if i > 0 && bytes.Equal(c.key, b.claims[i-1].key) {
			continue
		}
		a.keys, a.seqs, a.ats, a.links = append(a.keys, c.key), append(a.seqs, c.seq), append(a.ats, c.at),
			append(a.links, c.link)
	}
	for _, r := range b.sent {
		a.recSeqs, a.recs = append(a.recSeqs, r.seq), append(a.recs, r.rec)
	}
	a.node, a.run = p.opt.Node, int64(p.run) // #nosec G115 -- bits
	a.expired = time.Now().UnixNano() - p.dupWindow.Load()
	a.argv = append(a.argv[:0], &a.node, &a.run, &a.keys, &a.seqs, &a.ats, &a.links, &a.expired, &a.recSeqs,
		&a.recs, &a.claimed)
	return lost, a.argv
}

// ClaimedLink returns the link STAN of the request claimed under key
// (AppendClaimKey) at or after since, by any node: found false when no
// node relayed it then. For an acquirer's reversal sent to another node
// than its original (its field 90 must name the STAN the issuer saw).
func (p *PG) ClaimedLink(ctx context.Context, key []byte, since time.Time) (linkSTAN uint32, found bool, err error) {
	var link int64
	err = p.pool.QueryRow(ctx, `SELECT link_stan FROM dupclaims WHERE key = $1 AND at_ns >= $2`, key,
		since.UnixNano()).Scan(&link)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("journal: looking up an original's claim: %w", err)
	}
	return uint32(link), true, nil // #nosec G115 -- a STAN
}

// keepWon is b's in-flight records without those whose claim lost: a
// duplicate never goes out, so it has nothing to reverse.
func keepWon(sent []pgSent, lost map[int64]bool) []pgSent {
	if len(lost) == 0 {
		return sent
	}
	kept := make([]pgSent, 0, len(sent))
	for _, r := range sent {
		if !lost[r.seq] {
			kept = append(kept, r)
		}
	}
	return kept
}

// pruneClaims deletes the claims older than the duplicate window, in
// short transactions (pgPruneChunk rows each).
func (p *PG) pruneClaims(ctx context.Context) (int64, error) {
	before := time.Now().UnixNano() - p.dupWindow.Load()
	var total int64
	for {
		tag, err := p.pool.Exec(ctx, `DELETE FROM dupclaims WHERE key IN
			(SELECT key FROM dupclaims WHERE at_ns < $1 LIMIT $2)`, before, pgPruneChunk)
		if err != nil {
			return total, fmt.Errorf("journal: pruning duplicate claims: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pgPruneChunk {
			return total, nil
		}
	}
}
