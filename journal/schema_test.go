package journal

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMigrationsIdempotent(t *testing.T) {
	j, path := openTemp(t, Options{})
	appendAll(t, j, 3, nil)
	require.NoError(t, migrate(context.Background(), j.wdb), "second run is a no-op")
	require.NoError(t, j.Close())

	j2, err := Open(path, Options{}) // reopen migrates again
	require.NoError(t, err)
	defer j2.Close()
	var v int
	require.NoError(t, j2.rdb.QueryRow("PRAGMA user_version").Scan(&v))
	assert.Equal(t, len(migrations), v)
	es, err := j2.List(context.Background(), Filter{})
	require.NoError(t, err)
	assert.Len(t, es, 3)
}

func TestSchemaVersionChecks(t *testing.T) {
	dir := t.TempDir()
	newer := filepath.Join(dir, "newer.db")
	db, err := sql.Open("sqlite", newer)
	require.NoError(t, err)
	_, err = db.Exec("PRAGMA user_version = 99")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	want := fmt.Sprintf("journal: schema version 99 is newer than this build's %d", len(migrations))
	_, err = Open(newer, Options{})
	require.EqualError(t, err, want)
	_, err = OpenReadOnly(newer)
	require.EqualError(t, err, want)

	empty := filepath.Join(dir, "empty.db")
	db, err = sql.Open("sqlite", empty)
	require.NoError(t, err)
	require.NoError(t, db.Ping())
	require.NoError(t, db.Close())
	_, err = OpenReadOnly(empty)
	require.EqualError(t, err, "journal: not a cardswitch journal (schema version 0)")

	older := filepath.Join(dir, "older.db")
	require.NoError(t, schemaDB(t, older, 3).Close())
	_, err = OpenReadOnly(older)
	require.EqualError(t, err, fmt.Sprintf("journal: schema version 3 is older than this build's %d: "+
		"start this build's switch (cardswitch serve) on it once to migrate it", len(migrations)))

	_, err = OpenReadOnly(filepath.Join(dir, "missing.db"))
	require.ErrorContains(t, err, "no such file or directory")
	assert.NoFileExists(t, filepath.Join(dir, "missing.db"), "read-only open never creates")
}

func TestOpenUsesWAL(t *testing.T) {
	j, _ := openTemp(t, Options{})
	var mode string
	var syncMode int
	require.NoError(t, j.wdb.QueryRow("PRAGMA journal_mode").Scan(&mode))
	require.NoError(t, j.wdb.QueryRow("PRAGMA synchronous").Scan(&syncMode))
	assert.Equal(t, "wal", mode)
	assert.Equal(t, 1, syncMode, "NORMAL")
}

// TestMigrateV1ToCurrent opens a version 1 file (five entry indexes) with
// data: the entries survive in batch rows and the entries table is gone.
func TestMigrateV1ToCurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(migrations[0] + `; PRAGMA user_version = 1;
		INSERT INTO entries (time, stan, rrn, issuer, response_code) VALUES (1, '000001', '000000000001', 'bank-a', '00')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	j, err := Open(path, Options{})
	require.NoError(t, err)
	defer j.Close()
	var tables []string
	rows, err := j.rdb.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	require.NoError(t, err)
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{"batches", "reversals", "sqlite_sequence", "stand_in_days", "stand_in_uses"}, tables)
	es, err := j.List(context.Background(), Filter{RRN: "000000000001", Issuer: "bank-a", Code: "00"})
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.Equal(t, "000001", es[0].STAN)
}

// TestMigrateV3MovesEveryEntry: a version 3 journal's entries (more than
// one batch row's worth) keep their ids and fields, and new entries
// continue after them.
func TestMigrateV3MovesEveryEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3.db")
	db := schemaDB(t, path, 3)
	const n = indexMax + 5
	tx, err := db.Begin()
	require.NoError(t, err)
	for i := 1; i <= n; i++ {
		e := sampleEntry(i)
		_, err := tx.Exec(`INSERT INTO entries (id, time, acquirer, conn, remote, issuer, mti, processing_code,
			amount, currency, stan, rrn, terminal, transmission_time, pan, response_code, outcome, reason, latency_us)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, 10*i, e.Time.UnixNano(), e.Acquirer, e.Conn, e.Remote,
			e.Issuer, e.MTI, e.ProcessingCode, e.Amount, e.Currency, e.STAN, e.RRN, e.Terminal, e.TransmissionTime,
			e.PAN, e.ResponseCode, string(e.Outcome), e.Reason, e.Latency.Microseconds())
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
	require.NoError(t, db.Close())

	j, err := Open(path, Options{})
	require.NoError(t, err)
	defer j.Close()
	ctx := context.Background()
	got, err := j.Get(ctx, 10*7)
	require.NoError(t, err)
	want := *sampleEntry(7)
	want.ID = 70
	assert.Equal(t, want, got)
	es, err := j.List(ctx, Filter{Limit: n + 10})
	require.NoError(t, err)
	assert.Len(t, es, n)
	rec := &recorder{}
	appendAll(t, j, 1, rec)
	assert.EqualValues(t, 10*n+1, rec.snapshot()[0].id)
}

// TestMigrateV3KeepsWhatOnlyTheLogHolds: a version 3 journal whose indexer
// gave up on ids 6-10 (their segment kept) and indexed 11-13 after them:
// after the migration and the replay every entry is there.
func TestMigrateV3KeepsWhatOnlyTheLogHolds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3.db")
	db := schemaDB(t, path, 3)
	for _, i := range []int{1, 2, 3, 4, 5, 11, 12, 13} {
		e := sampleEntry(i)
		_, err := db.Exec(`INSERT INTO entries (id, time, stan, rrn, pan, outcome) VALUES (?,?,?,?,?,?)`,
			i, e.Time.UnixNano(), e.STAN, e.RRN, e.PAN, string(e.Outcome))
		require.NoError(t, err)
	}
	require.NoError(t, db.Close())
	writeSegment(t, path, 6, 10, nil)

	j, err := Open(path, Options{})
	require.NoError(t, err)
	defer j.Close()
	for id := int64(1); id <= 13; id++ {
		_, err := j.Get(context.Background(), id)
		assert.NoError(t, err, "entry %d", id)
	}
}

// TestMigrateV3ResumesAMoveCutShort: a journal at the current version
// whose entries table still holds rows (the move was cut short) is refused
// by readers, and the next Open moves the rest, in steps.
func TestMigrateV3ResumesAMoveCutShort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "current.db")
	db := schemaDB(t, path, len(migrations))
	const n = moveChunk + 10
	tx, err := db.Begin()
	require.NoError(t, err)
	for i := 1; i <= n; i++ {
		_, err := tx.Exec(`INSERT INTO entries (id, time, rrn) VALUES (?, ?, ?)`, i, i, fmt.Sprintf("%012d", i))
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
	require.NoError(t, db.Close())

	_, err = OpenReadOnly(path)
	require.ErrorContains(t, err, "still moving this journal's entries to schema 4")
	j, err := Open(path, Options{})
	require.NoError(t, err)
	defer j.Close()
	es, err := j.List(context.Background(), Filter{RRN: fmt.Sprintf("%012d", n)})
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.EqualValues(t, n, es[0].ID)
	old, err := hasOldEntries(context.Background(), j.wdb)
	require.NoError(t, err)
	assert.False(t, old, "the old table is dropped")
}

// TestWriterCheckpointRewindsWAL: with automatic checkpoints off, the
// writer's own checkpoint copies every frame, so the next write rewinds the
// WAL instead of growing it.
func TestWriterCheckpointRewindsWAL(t *testing.T) {
	j, _ := openTemp(t, Options{})
	var auto int
	require.NoError(t, j.wdb.QueryRow("PRAGMA wal_autocheckpoint").Scan(&auto))
	assert.Equal(t, 0, auto, "commits never checkpoint")
	appendAll(t, j, 500, nil)
	r := writerCheckpoint(t, j)
	assert.Positive(t, r.log)
	// Once every frame is copied the next write restarts the WAL at frame
	// 0. A reader holding a snapshot at that moment (the checkpointer's
	// connection opens one briefly on its first checkpoint) makes a later
	// write do it. What matters is that it is rewound, not when.
	for range 100 {
		appendAll(t, j, 1, nil)
		if writerCheckpoint(t, j).log < 10 {
			return
		}
	}
	t.Fatal("the WAL was never rewound")
}

// writerCheckpoint retries while the checkpointer goroutine holds the
// checkpoint lock (busy).
func writerCheckpoint(t *testing.T, j *Journal) ckptResult {
	t.Helper()
	for range 1000 {
		var r ckptResult
		require.NoError(t, j.withWriteConn(func(dc any) (err error) {
			r, err = j.ins.checkpointWAL(dc)
			return err
		}))
		if !r.busy {
			return r
		}
	}
	t.Fatal("checkpoint busy 1000 times")
	return ckptResult{}
}

// schemaDB creates a file at path with the schema of the given version, as
// an older build (or one cut short after migrating) left it.
func schemaDB(t *testing.T, path string, version int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(strings.Join(migrations[:version], ";\n") + fmt.Sprintf("; PRAGMA user_version = %d", version))
	require.NoError(t, err)
	return db
}
