package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations are applied in order; migrations[i] takes the schema from
// version i to i+1 (PRAGMA user_version). Append only: never edit a
// released step.
var migrations = []string{
	// 1: entries, reversals and their indexes.
	`CREATE TABLE entries (
		id                INTEGER PRIMARY KEY,
		time              INTEGER NOT NULL, -- unix nanos
		acquirer          TEXT NOT NULL DEFAULT '',
		conn              INTEGER NOT NULL DEFAULT 0,
		remote            TEXT NOT NULL DEFAULT '',
		issuer            TEXT NOT NULL DEFAULT '',
		mti               TEXT NOT NULL DEFAULT '',
		processing_code   TEXT NOT NULL DEFAULT '',
		amount            TEXT NOT NULL DEFAULT '',
		currency          TEXT NOT NULL DEFAULT '',
		stan              TEXT NOT NULL DEFAULT '',
		rrn               TEXT NOT NULL DEFAULT '',
		terminal          TEXT NOT NULL DEFAULT '',
		transmission_time TEXT NOT NULL DEFAULT '',
		pan               TEXT NOT NULL DEFAULT '', -- masked
		response_code     TEXT NOT NULL DEFAULT '',
		outcome           TEXT NOT NULL DEFAULT '',
		reason            TEXT NOT NULL DEFAULT '',
		latency_us        INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX entries_time ON entries(time);
	-- rrn first: serves the --rrn filter and duplicate-key lookups.
	CREATE INDEX entries_dupkey ON entries(rrn, stan, terminal, acquirer, transmission_time);
	CREATE INDEX entries_stan ON entries(stan);
	CREATE INDEX entries_issuer ON entries(issuer, time);
	CREATE INDEX entries_code ON entries(response_code, time);
	CREATE TABLE reversals (
		id           INTEGER PRIMARY KEY,
		created      INTEGER NOT NULL, -- unix nanos
		issuer       TEXT NOT NULL DEFAULT '',
		entry_id     INTEGER NOT NULL DEFAULT 0, -- no FK: the entry may commit after the reversal
		stan         TEXT NOT NULL DEFAULT '',
		rrn          TEXT NOT NULL DEFAULT '',
		frame        BLOB NOT NULL,
		attempts     INTEGER NOT NULL DEFAULT 0,
		next_attempt INTEGER NOT NULL, -- unix nanos
		last_error   TEXT NOT NULL DEFAULT '',
		acked        INTEGER NOT NULL DEFAULT 0,
		ack_code     TEXT NOT NULL DEFAULT '',
		acked_at     INTEGER NOT NULL DEFAULT 0 -- unix nanos, 0 while pending
	);
	CREATE INDEX reversals_due ON reversals(next_attempt) WHERE acked = 0;`,

	// 2: fewer index writes per entry. Duplicate detection reads keys with
	// RecentKeys (a time range), never by key, so the 5-column dupkey index
	// becomes rrn alone, which --rrn needs. --issuer and --code walk
	// entries_time newest first and stop at the limit: issuer and code
	// values are few and common, and a rare one costs one scan of the
	// table, which a CLI query can afford and a commit per entry could
	// not.
	`DROP INDEX entries_dupkey;
	DROP INDEX entries_issuer;
	DROP INDEX entries_code;
	CREATE INDEX entries_rrn ON entries(rrn);`,

	// 3: RRNs and STANs arrive in random order, so inserting them into
	// plain (rrn) and (stan) indexes would touch a random leaf page per
	// row, and every commit would rewrite most of both indexes through
	// the WAL (BenchmarkAppend/random-keys). Keyed first by the id's
	// bucket of 2^14 entries, inserts stay inside the newest bucket's few
	// hundred pages, and a lookup probes each bucket (query.go).
	`DROP INDEX entries_rrn;
	DROP INDEX entries_stan;
	CREATE INDEX entries_rrn ON entries(id >> 14, rrn);
	CREATE INDEX entries_stan ON entries(id >> 14, stan);`,

	// 4: a row per batch of entries (batch.go): the indexer's B-tree work
	// per entry was most of the switch's CPU. moveOldEntries (migrate4.go)
	// then carries the entries over in steps and drops their table.
	`CREATE TABLE batches (
		first_id INTEGER PRIMARY KEY, -- the first entry's id; rows never overlap
		last_id  INTEGER NOT NULL,
		count    INTEGER NOT NULL,
		min_time INTEGER NOT NULL,    -- unix nanos, of the entries' request times
		max_time INTEGER NOT NULL,
		keys     BLOB NOT NULL,       -- Bloom filter of the RRNs and STANs
		records  BLOB NOT NULL        -- the entries' log records (record.go); from schema 5 compressed (pack.go)
	);
	-- since filters and whole-row pruning read max_time; trimming the
	-- rows that straddle a prune's cut reads min_time.
	CREATE INDEX batches_time ON batches(max_time);
	CREATE INDEX batches_min_time ON batches(min_time);`,

	// 5: new rows hold their records S2-compressed (pack.go); rows written
	// before stay as they are and are read as they are. Nothing changes in
	// the tables: the version only keeps an older build, which would take
	// a compressed blob for damage, from reading the file.
	`SELECT 1`,

	// 6: stored frames are sealed (seal.go) and a reversal's row is
	// deleted when it is acknowledged. key_id names the key that sealed a
	// row's frame, 0 for a frame stored in clear before this version,
	// which sealStored (stored.go) seals at the next Open with keys.
	// AUTOINCREMENT: an id is never reused after its row is deleted, as
	// the frame's seal and the switch's queue name a reversal by it.
	// Acknowledged rows are not carried over (their acks are entries),
	// nor are their ids given again.
	`CREATE TABLE reversals6 (
		id           INTEGER PRIMARY KEY AUTOINCREMENT,
		created      INTEGER NOT NULL, -- unix nanos
		issuer       TEXT NOT NULL DEFAULT '',
		entry_id     INTEGER NOT NULL DEFAULT 0, -- no FK: the entry may commit after the reversal
		stan         TEXT NOT NULL DEFAULT '',
		rrn          TEXT NOT NULL DEFAULT '',
		frame        BLOB NOT NULL,              -- sealed with key_id's key (seal.go)
		key_id       INTEGER NOT NULL DEFAULT 0, -- 0: in clear, until sealStored
		attempts     INTEGER NOT NULL DEFAULT 0,
		next_attempt INTEGER NOT NULL,           -- unix nanos
		last_error   TEXT NOT NULL DEFAULT ''
	);
	INSERT INTO sqlite_sequence (name, seq) SELECT 'reversals6', coalesce(max(id), 0) FROM reversals;
	INSERT INTO reversals6 (id, created, issuer, entry_id, stan, rrn, frame, attempts, next_attempt, last_error)
		SELECT id, created, issuer, entry_id, stan, rrn, frame, attempts, next_attempt, last_error
		FROM reversals WHERE acked = 0;
	DROP TABLE reversals;
	ALTER TABLE reversals6 RENAME TO reversals;
	CREATE INDEX reversals_due ON reversals(next_attempt);`,

	// 7: an entry's record may end with the acquirer's and the issuer's
	// dialect names (record.go: appendDialects). Nothing changes in the
	// tables: the version keeps an older build, which would take such a
	// record for damage, from reading the file.
	`SELECT 1`,
	// 8: stand-in (standin.go). stand_in_uses holds each stand-in
	// approval against its card's limits: the card is an HMAC of the PAN
	// under a key derived from the journal key, never the PAN. A row
	// older than its issuer's window is deleted. stand_in_days keeps the
	// day's last approval code number, so a restart never gives one twice.
	// A stored message's kind tells the switch's stand-in advices
	// ('stand-in': paced by stand_in.advice_rate, moved to the exception
	// list past advice_ttl) from reversals and acquirers' advices ('');
	// exception is when it moved there (unix nanos), 0 while owed.
	`CREATE TABLE stand_in_uses (
		issuer TEXT NOT NULL,
		card   BLOB NOT NULL,    -- HMAC-SHA256 of the PAN (journal key derived)
		time   INTEGER NOT NULL, -- unix nanos
		amount INTEGER NOT NULL  -- field 4, minor units
	);
	CREATE INDEX stand_in_uses_card ON stand_in_uses(issuer, card, time);
	CREATE TABLE stand_in_days (
		day TEXT PRIMARY KEY, -- YYYYMMDD, UTC
		seq INTEGER NOT NULL
	);
	ALTER TABLE reversals ADD COLUMN kind TEXT NOT NULL DEFAULT '';
	ALTER TABLE reversals ADD COLUMN exception INTEGER NOT NULL DEFAULT 0;`,
}

// migrate brings the schema to len(migrations) in one transaction; running
// it again is a no-op.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal: migrate: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("journal: migrate: read version: %w", err)
	}
	if v > len(migrations) {
		return &SchemaError{Version: v, Known: len(migrations)}
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("journal: migrate to version %d: %w", i+1, err)
		}
	}
	if v == len(migrations) {
		return nil
	}
	// PRAGMA takes no bind parameters; the value is our own constant.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("journal: migrate: set version: %w", err)
	}
	return tx.Commit()
}

// checkVersion is the read-only counterpart of migrate: a reader cannot
// migrate, and the queries read only the current schema, all of it moved.
func checkVersion(ctx context.Context, db *sql.DB) error {
	if err := checkVersionNumber(ctx, db); err != nil {
		return err
	}
	moving, err := hasOldEntries(ctx, db)
	if err != nil {
		return err
	}
	if moving {
		return errors.New("journal: the switch is still moving this journal's entries to schema 4 (it logs its " +
			"progress); query it once the switch has started")
	}
	return nil
}

func checkVersionNumber(ctx context.Context, db *sql.DB) error {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("journal: read schema version: %w", err)
	}
	if v != len(migrations) {
		return &SchemaError{Version: v, Known: len(migrations)}
	}
	return nil
}
