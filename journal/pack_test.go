package journal

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPackRoundTrip(t *testing.T) {
	b := sampleRecords(1, 500)
	packed := packRecords(nil, b)
	assert.Equal(t, []byte{0, 0, 0, 0}, packed[:packedMark])
	assert.Less(t, len(packed), len(b)/2, "journal records compress")
	got, err := unpackRecords(packed)
	require.NoError(t, err)
	assert.Equal(t, b, got)

	plain, err := unpackRecords(b)
	require.NoError(t, err)
	assert.Equal(t, b, plain, "a row stored before schema 5 reads as it is")

	_, err = unpackRecords(append([]byte{0, 0, 0, 0}, "not s2"...))
	require.ErrorContains(t, err, "journal: batch row: records do not decompress")

	again := packRecords(packed, b)
	assert.Equal(t, packed, again, "the buffer is reused")
}

// TestRowsStoredCompressedAndPlainRowsRead: the indexer stores rows
// compressed; a row stored plain, as before schema 5, is still read by
// every query.
func TestRowsStoredCompressedAndPlainRowsRead(t *testing.T) {
	j, _ := openTemp(t, Options{})
	appendAll(t, j, 10, nil)
	var blob []byte
	require.NoError(t, j.rdb.QueryRow(`SELECT records FROM batches WHERE first_id = 1`).Scan(&blob))
	assert.Equal(t, []byte{0, 0, 0, 0}, blob[:packedMark], "compressed")

	plain := sampleRecords(11, 20)
	var m batchMeta
	require.NoError(t, m.build(plain, 10))
	_, err := j.wdb.Exec(insertSQL, m.first, m.last, m.count, m.minTime, m.maxTime, []byte(m.keys), plain)
	require.NoError(t, err)

	got, err := j.Get(context.Background(), 15)
	require.NoError(t, err)
	want := sampleEntry(15)
	want.ID = 15
	assert.Equal(t, *want, got)
	es, err := j.List(context.Background(), Filter{Limit: 100})
	require.NoError(t, err)
	assert.Len(t, es, 20)
	es, err = j.List(context.Background(), Filter{RRN: want.RRN})
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.Equal(t, int64(15), es[0].ID)
}

// TestOpenUpgradesSchema4: a journal of the previous release (schema 4,
// rows stored plain) opens at the current schema; its rows read as before, and new
// rows are stored compressed next to them.
func TestOpenUpgradesSchema4(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v4.db")
	db := schemaDB(t, path, 4)
	plain := sampleRecords(1, 10)
	var m batchMeta
	require.NoError(t, m.build(plain, 10))
	_, err := db.Exec(insertSQL, m.first, m.last, m.count, m.minTime, m.maxTime, []byte(m.keys), plain)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	j, err := Open(path, Options{})
	require.NoError(t, err)
	defer j.Close()
	var v int
	require.NoError(t, j.rdb.QueryRow("PRAGMA user_version").Scan(&v))
	assert.Equal(t, len(migrations), v)
	rec := &recorder{}
	appendAll(t, j, 1, rec)
	assert.Equal(t, int64(11), rec.snapshot()[0].id, "ids continue after the old rows")
	es, err := j.List(context.Background(), Filter{Limit: 100})
	require.NoError(t, err)
	assert.Len(t, es, 11)
	got, err := j.Get(context.Background(), 3)
	require.NoError(t, err)
	want := sampleEntry(3)
	want.ID = 3
	assert.Equal(t, *want, got)
}
