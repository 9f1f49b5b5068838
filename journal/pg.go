package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PG is the journal on PostgreSQL, shared by several switch nodes (each
// names itself: PGOptions.Node). Entries are staged as in *Journal and
// group-committed: whoever commits a ticket writes everything staged in
// one transaction sent as one batch (pg_writer.go: the duplicate claims
// and in-flight records, the entries, the deletes of the in-flight
// records closed), so an answer's entry is in the database before the
// answer goes out, and an Append's Waiter is told after its transaction
// committed. A committer goroutine writes what nobody commits within
// sweepAfter.
//
// Entry ids are unique across nodes (blocks claimed from pg_id_blocks) and
// given when the entry is written, not when it is staged. In-flight
// records are this node's: after a crash only it reverses its requests
// left in flight, when it opens again. Reversals owed are the storing
// node's until its heartbeat lapses (Lease), then any live node's
// (pg_reversal.go). Stand-in's counters, approval numbers and advices are
// shared by every node (pg_standin.go).
type PG struct {
	pool     *pgxpool.Pool
	opt      PGOptions
	seal     *sealer
	sentSeal *sentSealer
	run      uint64 // tells this Open's in-flight records from an earlier run's
	migrated int    // the schema version Open found

	mu      sync.Mutex
	cond    sync.Cond
	cur     *pgBatch
	spare   *pgBatch // the last batch written, emptied: the next cur
	gen     Ticket   // cur's ticket
	written Ticket   // every ticket up to this one is written (or failed)
	writing bool
	closed  bool
	sentSeq uint32
	sentAAD sentAAD // scratch for sentSeal; mu
	lag     atomic.Int64

	dupWindow atomic.Int64        // time.Duration: how long a claim holds (pg_claims.go)
	claimErrs map[uint32]claimErr // the claims that were not taken, by seq, until ClaimResult

	ids, idsEnd int64 // the id block being used (leader only)

	sp pgSpoolState
	// aliveSince is when this node's heartbeats last started succeeding
	// (0 while they fail): see deadBefore.
	aliveSince atomic.Int64

	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	beating chan struct{} // closed when heartbeats ends; nil before
}

// PGOptions configure OpenPG.
type PGOptions struct {
	// Node names this switch node in the rows it writes (cluster.node).
	Node string
	// Log receives write errors. Default slog.Default().
	Log *slog.Logger
	// WriteFailed, if set, is told how many entries a failed write lost.
	WriteFailed func(entries int)
	// Keys seal the stored messages and in-flight PANs (seal.go).
	Keys [][32]byte
	// Reverse makes the reversal of a request this node's previous run
	// recorded in flight and never finished (see Options.Reverse).
	Reverse func(s *Sent) (*Reversal, error)
	// ReadOnly opens for queries only (the txn commands): no migration,
	// no writer.
	ReadOnly bool
	// Lease is how long after its last heartbeat a node counts as dead
	// (cluster.lease): its reversals owed are then claimed by the live
	// nodes. It beats every Lease/3. Default 15s.
	Lease time.Duration
	// Report, if set, tells what each heartbeat publishes of this node
	// (cluster status: Nodes). Called from the heartbeat goroutine.
	Report func() NodeReport
	// DupWindow is how long a request's duplicate key stays claimed
	// across nodes (journal.duplicate_window; pg_claims.go). Default 10m.
	DupWindow time.Duration
	// Spool is the local file writes go to while the database is
	// unreachable (pg_spool.go); "": none, a failed write's entries are
	// lost (logged and counted by WriteFailed).
	Spool string
}

// pgBatch is what one write carries.
type pgBatch struct {
	ents    pgEntries  // ids left to the writer
	waiters []pgWaiter // Append's, by row index
	sent    []pgSent   // in-flight records (this node's, this run's)
	closes  []int64    // in-flight seqs closed
	claims  []pgClaim  // duplicate keys claimed with the in-flight records
	ca      pgClaimArgs
	release []int64 // seqs whose claims are released (their requests did not go out)
}

// reset empties b for another write, keeping its arrays; nothing of the
// write it carried may hold them any more (the batch sent, waiters told).
func (b *pgBatch) reset() {
	b.ents.reset()
	b.ca.reset()
	clear(b.waiters)
	clear(b.sent)
	clear(b.claims)
	b.waiters, b.sent, b.closes, b.claims, b.release = b.waiters[:0], b.sent[:0], b.closes[:0], b.claims[:0],
		b.release[:0]
}

// pgSent is an in-flight record staged: its seq and its record (the PAN
// in it sealed).
type pgSent struct {
	seq int64
	rec []byte
}

type pgWaiter struct {
	row int
	e   *Entry
	w   Waiter
}

// pgIDBlock is how many ids a node claims at a time.
const pgIDBlock = 4096

// OpenPG connects to the database named by dsn, brings its schema up to
// date (unless read-only), and, for a writer, reverses this node's
// requests left in flight by its previous run.
func OpenPG(ctx context.Context, dsn string, opt PGOptions) (*PG, error) {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Lease <= 0 {
		opt.Lease = 15 * time.Second
	}
	if opt.DupWindow <= 0 {
		opt.DupWindow = 10 * time.Minute
	}
	if opt.Node == "" {
		return nil, errors.New("journal.postgres: cluster.node is empty")
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("journal.postgres %s: %w", MaskDSN(dsn), maskErr(err, dsn))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("journal.postgres %s: %w", MaskDSN(dsn), maskErr(err, dsn))
	}
	sl, err := newSealer(opt.Keys)
	if err != nil {
		pool.Close()
		return nil, err
	}
	p := &PG{pool: pool, opt: opt, seal: sl, sentSeal: newSentSealer(sl), run: newRun(), cur: &pgBatch{},
		gen: 1, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		claimErrs: make(map[uint32]claimErr)}
	p.cond.L = &p.mu
	p.dupWindow.Store(int64(opt.DupWindow))
	if opt.ReadOnly {
		close(p.done)
		return p, nil
	}
	if p.migrated, err = migratePG(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("journal.postgres %s: %w", MaskDSN(dsn), err)
	}
	if p.migrated < PGSchemaVersion {
		opt.Log.Info("journal.postgres: schema migrated", "from", p.migrated, "to", PGSchemaVersion)
	}
	if err := p.beat(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("journal.postgres: heartbeat: %w", err)
	}
	if err := checkSpool(opt.Spool); err != nil {
		pool.Close()
		return nil, err
	}
	if n, err := p.drainSpool(ctx); err != nil {
		pool.Close()
		return nil, err
	} else if n > 0 {
		opt.Log.Warn("journal.spool: entries written while the database was unreachable replayed into it",
			"spool", opt.Spool, "entries", n)
	}
	if err := p.reverseUnfinished(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	p.beating = make(chan struct{})
	go p.heartbeats()
	go p.committer()
	return p, nil
}

// Migrated reports whether this Open migrated the schema (it found an
// older version).
func (p *PG) Migrated() bool { return p.migrated < PGSchemaVersion }

// MaskDSN is dsn with its password replaced by "xxxxx", for logs and
// errors (a URL; a key=value DSN is reduced to "(dsn)").
func MaskDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "(dsn)"
	}
	return u.Redacted()
}

// maskErr keeps the DSN's password out of err's text.
func maskErr(err error, dsn string) error {
	u, perr := url.Parse(dsn)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		return &maskedError{err: err, pw: pw}
	}
	return err
}

type maskedError struct {
	err error
	pw  string
}

func (e *maskedError) Error() string { return strings.ReplaceAll(e.err.Error(), e.pw, "xxxxx") }
func (e *maskedError) Unwrap() error { return e.err }

var _ Store = (*PG)(nil)

// writableLocked says why staging is refused, if it is (p.mu held).
func (p *PG) writableLocked() error {
	switch {
	case p.opt.ReadOnly:
		return ErrReadOnly
	case p.closed:
		return ErrClosed
	}
	return nil
}

// Lag is how many staged entries wait for their write.
func (p *PG) Lag() int { return int(p.lag.Load()) }

// Beat records this node's heartbeat now, out of turn: the switch calls
// it once it runs and after each reload, so that `cluster status` shows
// the config in force without waiting for the next beat.
func (p *PG) Beat(ctx context.Context) error { return p.beat(ctx) }

// beat records this node's heartbeat, with what Report says of it.
func (p *PG) beat(ctx context.Context) error {
	now := time.Now().UnixNano()
	var r NodeReport
	if p.opt.Report != nil {
		r = p.opt.Report()
	}
	_, err := p.pool.Exec(ctx, `INSERT INTO nodes (node, heartbeat_ns, started_ns, config_hash, routing_hash, links)
		VALUES ($1, $2, $2, $3, $4, $5)
		ON CONFLICT (node) DO UPDATE SET heartbeat_ns = excluded.heartbeat_ns, config_hash = excluded.config_hash,
			routing_hash = excluded.routing_hash, links = excluded.links`,
		p.opt.Node, now, r.ConfigHash, r.RoutingHash, reportJSON(r))
	if err != nil {
		p.aliveSince.Store(0)
	} else {
		p.aliveSince.CompareAndSwap(0, now)
	}
	return err
}

// deadBefore is the heartbeat time before which a node counts as dead
// (its reversals and requests in flight are taken over): now - Lease, once
// this node's own heartbeats have succeeded for a whole Lease without a
// failure; until then none counts as dead. After the database was
// unreachable every node's last heartbeat is old: the live ones must be
// given a lease to beat again, or the first node back would reverse the
// requests the others have in flight.
func (p *PG) deadBefore() int64 {
	since, now := p.aliveSince.Load(), time.Now()
	if since == 0 || now.Sub(time.Unix(0, since)) < p.opt.Lease {
		return math.MinInt64
	}
	return now.Add(-p.opt.Lease).UnixNano()
}

// heartbeats beats every Lease/3 until Close (three missed beats before a
// survivor takes this node's messages over), and with each beat reverses
// the requests dead nodes left in flight.
func (p *PG) heartbeats() {
	defer close(p.beating)
	p.every(p.opt.Lease/3, func() bool { p.beatAndTakeOver(); return false })
}

// every runs fn every d until the journal closes or fn says it is done.
func (p *PG) every(d time.Duration, fn func() (done bool)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		if fn() {
			return
		}
	}
}

// beatAndTakeOver is one heartbeat, and if it succeeded the takeover of
// what dead nodes left in flight and the pruning of expired duplicate
// claims.
func (p *PG) beatAndTakeOver() {
	ctx, cancel := context.WithTimeout(context.Background(), p.opt.Lease/3)
	defer cancel()
	p.forgetClaimResults(time.Now().Add(-claimResultTTL))
	if err := p.beat(ctx); err != nil {
		p.opt.Log.Error("journal.postgres: heartbeat failed: past cluster.lease other nodes take over "+
			"this node's reversals owed and requests in flight", "node", p.opt.Node, "err", err)
		return
	}
	p.opt.Log.Debug("journal.postgres: heartbeat", "node", p.opt.Node)
	if err := p.takeOverInFlight(ctx); err != nil {
		p.opt.Log.Error("journal.postgres: in-flight takeover", "err", err)
	} else if _, err := p.pruneClaims(ctx); err != nil {
		p.opt.Log.Error("journal.postgres: pruning duplicate claims", "err", err)
	}
}
