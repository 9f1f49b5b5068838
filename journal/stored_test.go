package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	keyA = [32]byte{0xa}
	keyB = [32]byte{0xb}
)

// secretFrame stands for a stored 0420 carrying field 48's CVV2.
var secretFrame = []byte("0420...016CVV2=987;CVC=654...3108")

// assertNoFileHolds scans every file under dir for s.
func assertNoFileHolds(t *testing.T, dir string, s []byte) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		require.NoError(t, err)
		assert.False(t, bytes.Contains(b, s), "%q found in %s", s, p)
		return nil
	}))
}

// storedKeyID reads the key id a row's frame was sealed with.
func storedKeyID(t *testing.T, j *Journal, id int64) uint32 {
	t.Helper()
	var blob []byte
	var kid uint32
	require.NoError(t, j.rdb.QueryRow("SELECT frame, key_id FROM reversals WHERE id = ?", id).Scan(&blob, &kid))
	require.Equal(t, kid, binary.BigEndian.Uint32(blob[1:5]), "the frame names its key")
	return kid
}

// Rotation: with keys [B, A], messages sealed with A still open, and new
// ones are sealed with B.
func TestStoredMessagesKeyRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := Open(path, Options{Keys: [][32]byte{keyA}})
	require.NoError(t, err)
	old := &Reversal{Issuer: "bank-a", STAN: "000001", Frame: secretFrame}
	_, err = j.AddReversal(context.Background(), old)
	require.NoError(t, err)
	require.NoError(t, j.Close())

	j, err = Open(path, Options{Keys: [][32]byte{keyB, keyA}})
	require.NoError(t, err)
	defer j.Close()
	fresh := &Reversal{Issuer: "bank-a", STAN: "000002", Frame: []byte("new frame")}
	_, err = j.AddReversal(context.Background(), fresh)
	require.NoError(t, err)
	due, err := j.DueReversals(time.Now(), 0)
	require.NoError(t, err)
	require.Len(t, due, 2)
	assert.Equal(t, secretFrame, due[0].Frame, "sealed with the old key, opened")
	assert.Equal(t, []byte("new frame"), due[1].Frame)
	assert.Equal(t, keyID(keyA), storedKeyID(t, j, old.ID))
	assert.Equal(t, keyID(keyB), storedKeyID(t, j, fresh.ID), "the first key seals")
	locked, err := j.LockedReversals()
	require.NoError(t, err)
	assert.Empty(t, locked)
	require.NoError(t, j.Flush(context.Background()))
	assertNoFileHolds(t, filepath.Dir(path), []byte("CVV2=987"))
}

// A stored message whose key is gone is not due, not dropped: it is listed
// by LockedReversals, counted, left untouched, and due again once its key
// is back.
func TestStoredMessageWithoutItsKeyStays(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := Open(path, Options{Keys: [][32]byte{keyA}})
	require.NoError(t, err)
	r := &Reversal{Issuer: "bank-a", STAN: "000042", RRN: "000000000042", Frame: secretFrame}
	_, err = j.AddReversal(context.Background(), r)
	require.NoError(t, err)
	require.NoError(t, j.Close())

	j, err = Open(path, Options{Keys: [][32]byte{keyB}})
	require.NoError(t, err)
	due, err := j.DueReversals(time.Now(), 0)
	require.NoError(t, err)
	assert.Empty(t, due)
	locked, err := j.LockedReversals()
	require.NoError(t, err)
	require.Len(t, locked, 1)
	assert.Equal(t, r.ID, locked[0].ID)
	assert.Equal(t, "bank-a", locked[0].Issuer)
	assert.Equal(t, "000042", locked[0].STAN)
	var gone *KeyGoneError
	require.ErrorAs(t, locked[0].FrameErr, &gone)
	assert.Equal(t, keyID(keyA), gone.KeyID)
	n, err := j.ReversalCount()
	require.NoError(t, err)
	assert.Equal(t, 1, n, "still owed")
	require.NoError(t, j.Close())

	j, err = Open(path, Options{Keys: [][32]byte{keyB, keyA}})
	require.NoError(t, err)
	defer j.Close()
	due, err = j.DueReversals(time.Now(), 0)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, secretFrame, due[0].Frame, "the key is back")
}

// A sealed frame is bound to its row: copied into another row, it does
// not open.
func TestSealedFrameCannotMoveRows(t *testing.T) {
	j, _ := openTemp(t, Options{})
	ctx := context.Background()
	a := &Reversal{Issuer: "bank-a", STAN: "000001", Frame: secretFrame}
	b := &Reversal{Issuer: "bank-a", STAN: "000002", Frame: []byte("other")}
	require.NoError(t, j.AddReversals(ctx, []*Reversal{a, b}))
	_, err := j.wdb.Exec("UPDATE reversals SET frame = (SELECT frame FROM reversals WHERE id = ?) WHERE id = ?", a.ID, b.ID)
	require.NoError(t, err)
	due, err := j.DueReversals(time.Now(), 0)
	require.NoError(t, err)
	require.Len(t, due, 2)
	assert.Equal(t, secretFrame, due[0].Frame)
	assert.Nil(t, due[1].Frame)
	assert.ErrorContains(t, due[1].FrameErr, "does not authenticate")
}

// A journal of the previous schema holds its stored frames in clear: Open
// seals the owed ones in place, drops the acknowledged ones, and no file
// holds the clear bytes afterwards.
func TestOpenSealsClearStoredMessages(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "v5.db")
	db := schemaDB(t, path, 5)
	_, err := db.Exec(`INSERT INTO reversals (id, created, issuer, stan, frame, next_attempt) VALUES (3, 1, 'bank-a', '000003', ?, 1);
		INSERT INTO reversals (id, created, issuer, stan, frame, next_attempt, acked, ack_code, acked_at)
		VALUES (4, 1, 'bank-a', '000004', ?, 1, 1, '00', 2)`, secretFrame, []byte("acked CVV2=123;"))
	require.NoError(t, err)
	require.NoError(t, db.Close())

	j, err := Open(path, Options{Keys: [][32]byte{keyA}})
	require.NoError(t, err)
	due, err := j.DueReversals(time.Now(), 0)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, int64(3), due[0].ID)
	assert.Equal(t, secretFrame, due[0].Frame)
	assert.Equal(t, keyID(keyA), storedKeyID(t, j, 3))
	fresh := &Reversal{Issuer: "bank-a", Frame: []byte("x")}
	_, err = j.AddReversal(context.Background(), fresh)
	require.NoError(t, err)
	assert.Equal(t, int64(5), fresh.ID, "ids are never reused")
	require.NoError(t, j.Close())
	assertNoFileHolds(t, dir, []byte("CVV2=987"))
	assertNoFileHolds(t, dir, []byte("CVV2=123"))
}

// The journal's files are the switch user's alone: a new folder 0700, the
// database, its WAL and shared memory 0600, the log directory 0700 and its
// segments 0600; a database left readable by others is tightened at Open.
func TestJournalFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "journal")
	path := filepath.Join(dir, "journal.db")
	j, err := Open(path, Options{Keys: testKeys})
	require.NoError(t, err)
	j.Append(sampleEntry(1), nil)
	_, err = j.AddReversal(context.Background(), &Reversal{Issuer: "bank-a", Frame: []byte("x")})
	require.NoError(t, err)
	require.NoError(t, j.FlushLog(context.Background()))
	want := map[string]fs.FileMode{dir: 0o700, filepath.Dir(dir): 0o700, path: 0o600, path + "-wal": 0o600,
		path + "-shm": 0o600, path + logSuffix: 0o700}
	segs, err := segments(path + logSuffix)
	require.NoError(t, err)
	require.NotEmpty(t, segs)
	for _, s := range segs {
		want[s] = 0o600
	}
	for p, mode := range want {
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, mode, st.Mode().Perm(), p)
	}
	require.NoError(t, j.Close())

	for _, p := range []string{path, path + logSuffix} {
		require.NoError(t, os.Chmod(p, 0o755))
	}
	j, err = Open(path, Options{Keys: testKeys})
	require.NoError(t, err)
	defer j.Close()
	for p, mode := range map[string]fs.FileMode{path: 0o600, path + logSuffix: 0o700} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, mode, st.Mode().Perm(), "tightened at open: %s", p)
	}
}
