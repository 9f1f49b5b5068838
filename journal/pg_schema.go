package journal

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The PostgreSQL schema, versioned in code: pgMigrations[i] takes the
// schema from version i to i+1. The SQL keeps to what PostgreSQL,
// CockroachDB and YugabyteDB all have: no advisory locks, no LISTEN/NOTIFY,
// no sequences (entry and reversal ids come from blocks a node claims from
// pg_id_blocks: unique, ordered within a node only). Times are unix
// nanoseconds (UTC), latencies microseconds, as in the log's records.
var pgMigrations = []string{
	`CREATE TABLE entries (
		id BIGINT PRIMARY KEY,
		node TEXT NOT NULL,
		written_ns BIGINT NOT NULL,
		time_ns BIGINT NOT NULL,
		conn BIGINT NOT NULL,
		latency_us BIGINT NOT NULL,
		acquirer TEXT NOT NULL, remote TEXT NOT NULL, issuer TEXT NOT NULL,
		mti TEXT NOT NULL, pcode TEXT NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL,
		stan TEXT NOT NULL, rrn TEXT NOT NULL, terminal TEXT NOT NULL, tx_time TEXT NOT NULL,
		pan TEXT NOT NULL, code TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL,
		acq_dialect TEXT NOT NULL, iss_dialect TEXT NOT NULL);
	CREATE INDEX entries_time ON entries (time_ns);
	CREATE INDEX entries_written ON entries (written_ns, id);
	CREATE INDEX entries_rrn ON entries (rrn);
	CREATE INDEX entries_stan ON entries (stan);
	CREATE TABLE inflight (
		node TEXT NOT NULL, run BIGINT NOT NULL, seq BIGINT NOT NULL, record BYTEA NOT NULL,
		PRIMARY KEY (node, run, seq));
	CREATE TABLE reversals (
		id BIGINT PRIMARY KEY,
		node TEXT NOT NULL,
		created BIGINT NOT NULL, issuer TEXT NOT NULL, entry_id BIGINT NOT NULL,
		stan TEXT NOT NULL, rrn TEXT NOT NULL, frame BYTEA NOT NULL, key_id BIGINT NOT NULL,
		attempts INT NOT NULL DEFAULT 0, next_attempt BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '',
		kind TEXT NOT NULL DEFAULT '', exception BIGINT NOT NULL DEFAULT 0);
	CREATE INDEX reversals_due ON reversals (node, issuer, next_attempt);
	CREATE TABLE pg_id_blocks (one INT PRIMARY KEY CHECK (one = 1), next BIGINT NOT NULL);
	INSERT INTO pg_id_blocks VALUES (1, 1);`,
	// Node heartbeats: a node's reversals owed become any live node's to
	// deliver once its heartbeat is older than the lease.
	`CREATE TABLE nodes (node TEXT PRIMARY KEY, heartbeat_ns BIGINT NOT NULL, started_ns BIGINT NOT NULL);`,
	// Duplicate keys claimed across nodes (pg_claims.go: the key is the
	// primary key, so INSERT ... ON CONFLICT decides between nodes), and
	// what a node's heartbeat says of it (pg_nodes.go): its config and
	// routing hashes and its live links per issuer (JSON text).
	`CREATE TABLE dupclaims (key BYTEA PRIMARY KEY, node TEXT NOT NULL, run BIGINT NOT NULL, seq BIGINT NOT NULL,
		at_ns BIGINT NOT NULL, link_stan BIGINT NOT NULL);
	CREATE INDEX dupclaims_at ON dupclaims (at_ns);
	ALTER TABLE nodes ADD COLUMN config_hash TEXT NOT NULL DEFAULT '';
	ALTER TABLE nodes ADD COLUMN routing_hash TEXT NOT NULL DEFAULT '';
	ALTER TABLE nodes ADD COLUMN links TEXT NOT NULL DEFAULT '';`,
	// Stand-in, shared by every node (pg_standin.go). stand_in_cards has
	// a row per card a node decided for, locked by each decision's
	// transaction so that nodes decide for a card one at a time; seen_ns
	// is when a node last did (rows older than the window are deleted).
	// stand_in_uses holds each approval against its card's limits (the
	// card an HMAC of the PAN, never the PAN); stand_in_days the day's
	// last approval code number, shared, so no two nodes give the same.
	`CREATE TABLE stand_in_cards (issuer TEXT NOT NULL, card BYTEA NOT NULL, seen_ns BIGINT NOT NULL,
		PRIMARY KEY (issuer, card));
	CREATE INDEX stand_in_cards_seen ON stand_in_cards (issuer, seen_ns);
	CREATE TABLE stand_in_uses (issuer TEXT NOT NULL, card BYTEA NOT NULL, time_ns BIGINT NOT NULL,
		amount BIGINT NOT NULL);
	CREATE INDEX stand_in_uses_card ON stand_in_uses (issuer, card, time_ns);
	CREATE INDEX stand_in_uses_time ON stand_in_uses (issuer, time_ns);
	CREATE TABLE stand_in_days (day TEXT PRIMARY KEY, seq BIGINT NOT NULL);
	CREATE INDEX reversals_kind ON reversals (kind, issuer, exception);`,
}

// PGSchemaVersion is the schema version this build writes.
var PGSchemaVersion = len(pgMigrations)

// migratePG brings the schema to PGSchemaVersion and returns the version
// it found. The lock two starting nodes cannot both hold is the row of
// cardswitch_schema, taken FOR UPDATE by the migrating transaction: the
// second waits, then reads the version the first committed, and has
// nothing to do. A schema newer than this build is refused.
func migratePG(ctx context.Context, pool *pgxpool.Pool) (from int, err error) {
	if err := ensureSchemaTable(ctx, pool); err != nil {
		return 0, err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := tx.QueryRow(ctx, `SELECT version FROM cardswitch_schema WHERE one = 1 FOR UPDATE`).Scan(&from); err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	if from > PGSchemaVersion {
		return from, fmt.Errorf("the database's schema is version %d, newer than this build's %d: "+
			"run the newer cardswitch", from, PGSchemaVersion)
	}
	for v := from; v < PGSchemaVersion; v++ {
		if _, err := tx.Exec(ctx, pgMigrations[v]); err != nil {
			return from, fmt.Errorf("schema migration %d→%d: %w", v, v+1, err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE cardswitch_schema SET version = $1 WHERE one = 1`, PGSchemaVersion); err != nil {
		return from, err
	}
	return from, tx.Commit(ctx)
}

// ensureSchemaTable makes the version table and its one row. Two nodes
// creating it at once may collide in the catalog despite IF NOT EXISTS (a
// unique violation, "relation exists" or "type exists": the table's row
// type is created first): the loser finds the table there on its retry.
func ensureSchemaTable(ctx context.Context, pool *pgxpool.Pool) error {
	var err error
	for range 3 {
		_, err = pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS cardswitch_schema (
			one INT PRIMARY KEY CHECK (one = 1), version INT NOT NULL)`)
		if err == nil {
			_, err = pool.Exec(ctx, `INSERT INTO cardswitch_schema VALUES (1, 0) ON CONFLICT DO NOTHING`)
		}
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || !catalogRace(pe.Code) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("creating the schema version table: %w", err)
	}
	return nil
}

// catalogRace reports the SQLSTATEs of two CREATE ... IF NOT EXISTS
// racing: unique_violation, duplicate_table, duplicate_object.
func catalogRace(code string) bool {
	return code == "23505" || code == "42P07" || code == "42710"
}

// claimIDs takes the next block of n ids for this node, in a transaction
// of its own (short: one row), and returns its first.
func claimIDs(ctx context.Context, pool *pgxpool.Pool, n int64) (int64, error) {
	var next int64
	err := pool.QueryRow(ctx, `UPDATE pg_id_blocks SET next = next + $1 WHERE one = 1 RETURNING next`, n).Scan(&next)
	if err != nil {
		return 0, fmt.Errorf("claiming ids: %w", err)
	}
	return next - n, nil
}
