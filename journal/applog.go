package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// The append log is what makes an entry durable: one write(2) of a batch's
// records to the current segment file (plus an fsync with Sync "full").
// SQLite is an index of it, fed behind the answers (indexer.go). Segments
// live in the directory <journal path>-log, are named by the id of their
// first record, and are removed once every record in them is in SQLite.
const (
	logSuffix  = "-log"
	segExt     = ".seg"
	lockName   = "lock"
	segMaxSize = 16 << 20 // rotate after this many bytes: bounds the replay at Open
	// segMaxAge seals a segment this old at the next write, or at the
	// committer's next look when none comes: a quiet switch fills 16 MiB
	// in hours, and its records (the in-flight records' sealed PANs
	// among them) would wait in the current segment that long before
	// the segment can be indexed whole and removed.
	segMaxAge = time.Minute
)

// appendLog is the log directory, used by one writing leader at a time
// (writer.go).
type appendLog struct {
	dir    string
	lock   *os.File // flock'ed: one writer per journal
	full   bool     // fsync each write (Sync "full")
	segMax int64
	segAge time.Duration

	f       *os.File // current segment
	name    string
	first   int64     // the id the name gives
	started time.Time // when it was started
	size    int64
	broken  error // a partial write could not be cut: nothing may follow it

	sealing chan error // the fsync of the last sealed segment (nil: none pending)
}

// openLog creates the log directory if needed and takes its lock.
func openLog(dbPath string, full bool, segMax int64, segAge time.Duration) (*appendLog, error) {
	dir := dbPath + logSuffix
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: log directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: log lock: %w", err)
	}
	if err := flockWait(lock, syscall.LOCK_EX, lockWait); err != nil {
		lock.Close()
		return nil, fmt.Errorf("journal: %s is in use by another process (log lock: %w)", dbPath, err)
	}
	return &appendLog{dir: dir, lock: lock, full: full, segMax: segMax, segAge: segAge}, nil
}

// lockWait is how long Open waits for the log lock: another switch that
// is stopping may still hold it for a moment.
const lockWait = 2 * time.Second

// flockWait takes the lock, retrying while another process holds it.
func flockWait(f *os.File, how int, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB) // #nosec G115
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// segments lists the segment files in dir, oldest first.
func segments(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journal: log directory: %w", err)
	}
	var out []string
	for _, de := range des {
		if strings.HasSuffix(de.Name(), segExt) {
			out = append(out, filepath.Join(dir, de.Name()))
		}
	}
	slices.Sort(out) // names are zero-padded ids
	return out, nil
}

func segName(dir string, firstID int64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", firstID, segExt))
}

// startSegment opens a new current segment for records from firstID on.
func (l *appendLog) startSegment(firstID int64) error {
	name := segName(l.dir, firstID)
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("journal: log segment: %w", err)
	}
	if l.full {
		if err := syncDir(l.dir); err != nil {
			f.Close()
			return err
		}
	}
	l.f, l.name, l.first, l.started, l.size = f, name, firstID, time.Now(), 0
	return nil
}

// write appends b to the current segment. On failure it cuts the segment
// back to where it was, so a later write never follows a partial record.
func (l *appendLog) write(b []byte) error {
	if l.broken != nil {
		return l.broken
	}
	n, err := l.f.Write(b)
	if err == nil && l.full {
		err = l.f.Sync()
	}
	if err != nil {
		if n > 0 {
			if terr := l.f.Truncate(l.size); terr != nil {
				l.broken = fmt.Errorf("journal: log unusable until restart: a partial write could not be cut: %w", terr)
				return fmt.Errorf("journal: log write: %w (%v)", err, l.broken)
			}
			if _, serr := l.f.Seek(l.size, 0); serr != nil {
				l.broken = fmt.Errorf("journal: log unusable until restart: seeking back after a partial write: %w", serr)
				return fmt.Errorf("journal: log write: %w (%v)", err, l.broken)
			}
		}
		return fmt.Errorf("journal: log write: %w", err)
	}
	l.size += int64(n)
	return nil
}

// rotate seals the current segment once it is full and starts the next;
// it returns the sealed segment's name ("" when it did not rotate) and the
// error of the previous seal's fsync, if it failed (worth a warning only).
//
// A sealed segment is fsynced in the background (with Sync "full" each
// write already was): an fsync of 16 MiB takes ~10 ms here, and every
// answer waited for it when the writer did it. The next rotation waits for
// it, so after a power loss only the two newest segments can end torn
// (replay cuts a torn tail there and refuses damage anywhere else); in
// practice the sync completes milliseconds after the rotation.
func (l *appendLog) rotate(nextID int64) (sealed string, sealErr error, err error) {
	if !l.due(nextID) {
		return "", nil, nil
	}
	sealErr = l.awaitSeal()
	sealed, f := l.name, l.f
	if l.full {
		if err := f.Close(); err != nil {
			return "", sealErr, fmt.Errorf("journal: log segment close: %w", err)
		}
	} else {
		done := make(chan error, 1)
		go func() { done <- errors.Join(f.Sync(), f.Close()) }()
		l.sealing = done
	}
	return sealed, sealErr, l.startSegment(nextID)
}

// due reports whether the current segment is to be sealed, the next to
// be named nextID: it is full, or holds something and is segAge old. The
// next name must come after the current one's (a record with the id
// the current one is named by is in it, or its write failed), or the
// next segment would truncate this one.
func (l *appendLog) due(nextID int64) bool {
	if l.f == nil || nextID <= l.first {
		return false
	}
	return l.size >= l.segMax || l.size > 0 && time.Since(l.started) >= l.segAge
}

// awaitSeal waits for the pending seal, if any, and returns its error.
func (l *appendLog) awaitSeal() error {
	if l.sealing == nil {
		return nil
	}
	err := <-l.sealing
	l.sealing = nil
	if err != nil {
		return fmt.Errorf("journal: sealed log segment not synced: %w", err)
	}
	return nil
}

// close closes the current segment and, when everything in it is indexed,
// removes it; then it releases the lock.
func (l *appendLog) close(indexed bool) error {
	first := l.awaitSeal()
	if l.f != nil {
		err := l.f.Close()
		if indexed && err == nil {
			err = removeSegment(l.name)
		}
		first = errors.Join(first, err)
	}
	if err := l.lock.Close(); first == nil {
		first = err
	}
	return first
}

func removeSegment(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("journal: remove indexed log segment: %w", err)
	}
	return nil
}

// syncDir makes a new file's directory entry durable (Sync "full").
func syncDir(dir string) error {
	d, err := os.Open(dir) // #nosec G304 -- our own log directory
	if err != nil {
		return fmt.Errorf("journal: log directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("journal: log directory sync: %w", err)
	}
	return nil
}
