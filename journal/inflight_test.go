package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyJournal copies the files of the journal at path (database, WAL and
// log) to a new folder, as a crash would leave them: the copy was never
// closed.
func copyJournal(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "journal.db")
	dir := filepath.Dir(path)
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, de := range des {
		src := filepath.Join(dir, de.Name())
		to := filepath.Join(filepath.Dir(dst), de.Name())
		if de.IsDir() {
			require.NoError(t, os.MkdirAll(to, 0o700))
			sub, err := os.ReadDir(src)
			require.NoError(t, err)
			for _, s := range sub {
				b, err := os.ReadFile(filepath.Join(src, s.Name()))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(to, s.Name()), b, 0o600))
			}
			continue
		}
		b, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(to, b, 0o600))
	}
	return dst
}

func sentSample(stan string, link uint32) *Sent {
	s := &Sent{Time: time.Unix(1700000000, int64(link)), Issuer: "bank", LinkSTAN: link, MTI: []byte("0100")}
	for i, id := range SentFields {
		switch id {
		case 11:
			s.Fields[i] = []byte(stan)
		case 37:
			s.Fields[i] = []byte("RRN" + stan + "000")
		case 4:
			s.Fields[i] = []byte("000000001000")
		}
	}
	return s
}

// TestInFlightRecordCloseRecover: requests recorded as sent and closed
// (by their entry, or StageDone) are not reversed after a crash; the one
// never closed gets exactly one reversal, carrying what its 0420 needs,
// and a second start does not reverse it again.
func TestInFlightRecordCloseRecover(t *testing.T) {
	j, path := openTemp(t, Options{})
	tk1, seq1, err := j.StageSent(sentSample("000001", 11))
	require.NoError(t, err)
	_, seq2, err := j.StageSent(sentSample("000002", 12))
	require.NoError(t, err)
	tk3, _, err := j.StageSent(sentSample("000003", 13)) // never finished
	require.NoError(t, err)
	j.Commit(tk1)
	j.Commit(tk3)
	tk, err := j.StageFields(&Fields{Time: time.Now(), Issuer: "bank", MTI: []byte("0110"), STAN: []byte("000001"),
		ResponseCode: "00", Outcome: Approved, Closes: seq1})
	require.NoError(t, err)
	j.Commit(tk)
	j.StageDone(seq2)
	j.Commit(tk + 1)

	crashed := copyJournal(t, path)
	var got []Sent
	reverse := func(s *Sent) (*Reversal, error) {
		got = append(got, *s)
		return &Reversal{Created: s.Time, Issuer: s.Issuer, STAN: string(s.Field(11)), RRN: string(s.Field(37)),
			Frame: []byte("0420 of " + string(s.Field(11)))}, nil
	}
	j2, err := Open(crashed, Options{Keys: testKeys, Reverse: reverse})
	require.NoError(t, err)
	require.Len(t, got, 1, "only the request never finished is reversed")
	assert.Equal(t, uint32(13), got[0].LinkSTAN)
	assert.Equal(t, "0100", string(got[0].MTI))
	assert.Equal(t, "000000001000", string(got[0].Field(4)))
	rs, err := j2.PendingReversals()
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, "000003", rs[0].STAN)
	assert.Equal(t, "0420 of 000003", string(rs[0].Frame))
	require.NoError(t, j2.Close())

	got = nil
	j3, err := Open(crashed, Options{Keys: testKeys, Reverse: reverse})
	require.NoError(t, err)
	assert.Empty(t, got, "a second start does not reverse it again")
	n, err := j3.ReversalCount()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, j3.Close())
}

// TestInFlightRecordOutlivesItsSegment: a request recorded in a segment
// that was sealed and indexed long before the crash is still reversed:
// the segment is kept for InFlightHold, not removed once indexed.
func TestInFlightRecordOutlivesItsSegment(t *testing.T) {
	j, path := openTemp(t, Options{segMax: 4 << 10, InFlightHold: time.Hour})
	tk, _, err := j.StageSent(sentSample("000042", 42))
	require.NoError(t, err)
	j.Commit(tk)
	appendAll(t, j, 200, nil) // several segments, sealed and indexed
	require.NoError(t, j.Flush(context.Background()))
	crashed := copyJournal(t, path)
	var got []Sent
	j2, err := Open(crashed, Options{Keys: testKeys, Reverse: func(s *Sent) (*Reversal, error) {
		got = append(got, *s)
		return &Reversal{Created: s.Time, Issuer: s.Issuer, STAN: string(s.Field(11)), Frame: []byte("0420")}, nil
	}})
	require.NoError(t, err)
	defer j2.Close()
	require.Len(t, got, 1)
	assert.Equal(t, uint32(42), got[0].LinkSTAN)
}

// TestInFlightTimeoutReversalNotStoredTwice: a request whose timeout
// reversal was stored, when the process died before its entry (the
// close) was written, is not reversed a second time at the start.
func TestInFlightTimeoutReversalNotStoredTwice(t *testing.T) {
	j, path := openTemp(t, Options{})
	sent := sentSample("000077", 77)
	tk, _, err := j.StageSent(sent)
	require.NoError(t, err)
	j.Commit(tk)
	_, err = j.AddReversal(context.Background(), &Reversal{Created: sent.Time.Add(time.Second), Issuer: "bank",
		STAN: "000077", RRN: string(sent.Field(37)), Frame: []byte("timeout 0420")})
	require.NoError(t, err)
	crashed := copyJournal(t, path)
	j2, err := Open(crashed, Options{Keys: testKeys, Reverse: func(s *Sent) (*Reversal, error) {
		return &Reversal{Created: s.Time, Issuer: s.Issuer, STAN: string(s.Field(11)), RRN: string(s.Field(37)),
			Frame: []byte("recovered 0420")}, nil
	}})
	require.NoError(t, err)
	defer j2.Close()
	rs, err := j2.PendingReversals()
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, "timeout 0420", string(rs[0].Frame))
}

// TestInFlightRecordSealsPAN: the PAN of a recorded request reaches the
// log only sealed (no 12 of its digits in a row in any file), and the
// reversal made at start gets it back; without the key that sealed it the
// request is still reversed, without its PAN.
func TestInFlightRecordSealsPAN(t *testing.T) {
	const pan = "4761739001010119"
	j, path := openTemp(t, Options{})
	s := sentSample("000007", 7)
	s.PAN = []byte(pan)
	tk, _, err := j.StageSent(s)
	require.NoError(t, err)
	j.Commit(tk)
	crashed := copyJournal(t, path)
	assertNoDigitsOf(t, filepath.Dir(crashed), pan)

	for _, tc := range []struct {
		name string
		keys [][32]byte
		want string
	}{{"its key", testKeys, pan}, {"another key", [][32]byte{{9}}, ""}} {
		var got []Sent
		reverse := func(s *Sent) (*Reversal, error) {
			got = append(got, *s)
			return &Reversal{Created: s.Time, Issuer: s.Issuer, STAN: string(s.Field(11)), RRN: string(s.Field(37)),
				Frame: []byte("0420")}, nil
		}
		j2, err := Open(copyJournal(t, crashed), Options{Keys: tc.keys, Reverse: reverse})
		require.NoError(t, err, tc.name)
		require.Len(t, got, 1, tc.name)
		assert.Equal(t, tc.want, string(got[0].PAN), tc.name)
		assert.Equal(t, "000007", string(got[0].Field(11)), tc.name)
		require.NoError(t, j2.Close())
	}
}

// assertNoDigitsOf fails if a file under dir holds 12 digits of pan in a
// row.
func assertNoDigitsOf(t *testing.T, dir, pan string) {
	t.Helper()
	files := 0
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		files++
		for i := 0; i+12 <= len(pan); i++ {
			assert.NotContains(t, string(b), pan[i:i+12], "%s holds digits of the PAN", p)
		}
		return nil
	}))
	require.NotZero(t, files)
}

// TestInFlightSealedPANGoesWithItsLog: the sealed PAN of an in-flight
// record is in the log only while the record may be needed: a clean
// close (every request finished) leaves none in any file, and a start
// after a crash, once it has stored the record's reversal (the PAN then
// inside that reversal's own sealed frame), leaves none in the log.
func TestInFlightSealedPANGoesWithItsLog(t *testing.T) {
	var hdr [5]byte // a sealed section's version and key id
	hdr[0] = sealVersion
	binary.BigEndian.PutUint32(hdr[1:], keyID(testKeys[0]))
	holds := func(dir string) bool {
		found := false
		require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			found = found || bytes.Contains(b, hdr[:])
			return nil
		}))
		return found
	}
	j, path := openTemp(t, Options{})
	s := sentSample("000008", 8)
	s.PAN = []byte("4761739001010119")
	tk, seq, err := j.StageSent(s)
	require.NoError(t, err)
	j.Commit(tk)
	crashed := copyJournal(t, path)
	require.True(t, holds(filepath.Dir(crashed)), "the sealed PAN is in the log while in flight")

	tk, err = j.StageFields(&Fields{Time: time.Now(), Issuer: "bank", MTI: []byte("0110"), STAN: []byte("000008"),
		ResponseCode: "00", Outcome: Approved, Closes: seq})
	require.NoError(t, err)
	j.Commit(tk)
	require.NoError(t, j.Close())
	assert.False(t, holds(filepath.Dir(path)), "answered and closed: no sealed PAN left")

	reverse := func(s *Sent) (*Reversal, error) {
		return &Reversal{Created: s.Time, Issuer: s.Issuer, STAN: string(s.Field(11)), RRN: string(s.Field(37)),
			Frame: append([]byte("0420"), s.PAN...)}, nil
	}
	j2, err := Open(crashed, Options{Keys: testKeys, Reverse: reverse})
	require.NoError(t, err)
	assert.False(t, holds(crashed+logSuffix), "reversal stored: the log no longer holds the sealed PAN")
	require.NoError(t, j2.Close())
}

// TestInFlightPreparedRecord: a record prepared ahead of the link's lock
// (PrepareSent, then StagePrepared with the link STAN) reads back at the
// next start as StageSent's would: its STAN whatever its size (a
// fixed-width uvarint), its fields, its PAN opened. Preparers on several
// goroutines at once draw distinct seqs and nonces (-race covers the
// sealer's shared state).
func TestInFlightPreparedRecord(t *testing.T) {
	const pan = "4761739001010119"
	j, path := openTemp(t, Options{})
	stans := []uint32{0, 1, 127, 128, 999999, 1<<32 - 1}
	seqs := make([]uint32, len(stans))
	done := make(chan struct{})
	for i, stan := range stans {
		go func() {
			defer func() { done <- struct{}{} }()
			s := sentSample(fmt.Sprintf("%06d", i), 0)
			s.PAN = []byte(pan)
			var p PreparedSent
			assert.NoError(t, j.PrepareSent(&p, s))
			tk, seq, err := j.StagePrepared(&p, stan)
			assert.NoError(t, err)
			assert.Equal(t, p.Seq(), seq)
			seqs[i] = seq
			j.Commit(tk)
		}()
	}
	for range stans {
		<-done
	}
	assert.Len(t, uniq(seqs), len(stans), "distinct seqs")
	crashed := copyJournal(t, path)
	assertNoDigitsOf(t, filepath.Dir(crashed), pan)

	got := map[uint32]Sent{}
	reverse := func(s *Sent) (*Reversal, error) {
		got[s.LinkSTAN] = *s
		return &Reversal{Created: s.Time, Issuer: s.Issuer, STAN: string(s.Field(11)), RRN: string(s.Field(37)) +
			fmt.Sprint(s.LinkSTAN), Frame: []byte("0420")}, nil
	}
	j2, err := Open(crashed, Options{Keys: testKeys, Reverse: reverse})
	require.NoError(t, err)
	require.NoError(t, j2.Close())
	require.Len(t, got, len(stans))
	for i, stan := range stans {
		s := got[stan]
		assert.Equal(t, fmt.Sprintf("%06d", i), string(s.Field(11)), "STAN %d", stan)
		assert.Equal(t, pan, string(s.PAN), "STAN %d", stan)
		assert.Equal(t, "0100", string(s.MTI))
	}
}

func uniq(v []uint32) map[uint32]bool {
	m := map[uint32]bool{}
	for _, x := range v {
		m[x] = true
	}
	return m
}
