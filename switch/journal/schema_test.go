package journal

import (
	"context"
	"database/sql"
	"path/filepath"
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

	_, err = Open(newer, Options{})
	require.EqualError(t, err, "journal: schema version 99 is newer than this build's 1")
	_, err = OpenReadOnly(newer)
	require.EqualError(t, err, "journal: schema version 99 is newer than this build's 1")

	empty := filepath.Join(dir, "empty.db")
	db, err = sql.Open("sqlite", empty)
	require.NoError(t, err)
	require.NoError(t, db.Ping())
	require.NoError(t, db.Close())
	_, err = OpenReadOnly(empty)
	require.EqualError(t, err, "journal: not a cardswitch journal (schema version 0)")

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
