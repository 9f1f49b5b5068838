package journal

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The append log is what makes an entry durable: its record copied into
// the current segment's mapping (segment.go), plus an fsync with Sync
// "full" (sync.go). SQLite is an index of it, filled behind the answers by
// the indexer (indexer.go). Segments live in the directory
// <journal path>-log, are named by the id of their first record, and are
// removed once every record in them is in SQLite.
const (
	logSuffix  = "-log"
	segExt     = ".seg"
	lockName   = "lock"
	segMaxSize = 16 << 20 // a segment's size: bounds the replay at Open
	maxLag     = 32768    // records the indexer may lag behind before appends wait (backpressure)
)

// appendLog is the log directory and its segments.
type appendLog struct {
	dir    string
	lock   *os.File // flock'ed: one writer per journal
	full   bool     // fsync what is appended (Sync "full")
	segMax int
	lagMax int
	log    *slog.Logger

	mu          sync.Mutex
	behind      *sync.Cond   // signalled when the indexer commits while appends wait, and at close
	waiting     int          // appends waiting for it (the indexer then commits at once)
	indexedTo   atomic.Int64 // the id after the last one the indexer is done with
	wakeIndexer func()
	segs        []*segment // not yet released by the indexer, oldest first; the last is the current one
	nextID      int64
	closed      bool
	spare       chan spareSeg // the next segment, prepared in the background (preparing: one is coming)
	preparing   bool
	sealing     chan error // the background seal of the last sealed segment (nil: none pending)
}

type spareSeg struct {
	s   *segment
	err error
}

// openLog creates the log directory if needed and takes its lock.
func openLog(dbPath string, o Options) (*appendLog, error) {
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
	_ = os.Remove(filepath.Join(dir, spareName)) // a previous run's, never used
	l := &appendLog{dir: dir, lock: lock, full: o.Sync == "full", segMax: o.segMax, lagMax: o.lagMax, log: o.Log, spare: make(chan spareSeg, 1)}
	l.behind = sync.NewCond(&l.mu)
	return l, nil
}

// lockWait is how long Open waits for the log lock: a txn command holds it
// (shared) for a moment while it counts records a crash left unindexed.
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

// cur is the current segment (nil before the first).
func (l *appendLog) cur() *segment {
	if len(l.segs) == 0 || l.segs[len(l.segs)-1].sealed {
		return nil
	}
	return l.segs[len(l.segs)-1]
}

// append copies the record of body into the current segment and returns
// its id. Callers hold mu.
func (l *appendLog) append(body []byte) (int64, error) {
	for l.nextID-l.indexedTo.Load() >= int64(l.lagMax) && !l.closed {
		l.waitIndexer()
	}
	if l.closed {
		return 0, ErrClosed
	}
	id := l.nextID
	n := recHeader + 1 + uvarintLen(uint64(id)) + len(body) // #nosec G115 -- ids are positive
	s := l.cur()
	if s == nil || !s.room(n) {
		var err error
		if s, err = l.rotate(n); err != nil {
			return 0, err
		}
	}
	appendEncoded(s.data[s.size:s.size:s.size+n], id, body) // in place: exactly n bytes
	s.size += n
	s.n++
	l.nextID++
	return id, nil
}

// waitIndexer waits, under mu, for the indexer's next commit. Appends
// wait while it is maxLag records behind: backpressure, so that a
// sustained rate above what the index takes slows the answers instead of
// piling up a debt the switch pays later (and the throughput it reaches
// is one it can keep).
func (l *appendLog) waitIndexer() {
	l.waiting++
	l.wakeIndexer()
	l.behind.Wait()
	l.waiting--
}

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// rotate seals the current segment (if any) and starts the next, sized
// for at least a record of n bytes. A failure leaves the current segment
// as it was (the append is refused; the next one tries again). Callers
// hold mu.
func (l *appendLog) rotate(n int) (*segment, error) {
	next, err := l.takeSpare(n)
	if err != nil {
		return nil, err
	}
	old := l.cur()
	if old != nil && old.n == 0 {
		// Too small for the record and never used: the next one takes
		// its place (and its name, the same first id).
		l.segs = l.segs[:len(l.segs)-1]
		if err := old.release(true); err != nil {
			l.log.Warn("journal: unused log segment not removed", "err", err)
		}
		old = nil
	}
	name := segName(l.dir, l.nextID)
	if err := os.Rename(next.name, name); err != nil {
		_ = next.release(true)
		return nil, fmt.Errorf("journal: log segment: %w", err)
	}
	if l.full {
		if err := syncDir(l.dir); err != nil {
			_ = next.release(true)
			return nil, err
		}
	}
	next.name, next.first = name, l.nextID
	if old != nil {
		old.sealed = true
		l.seal(old)
	}
	l.segs = append(l.segs, next)
	l.prepareNext()
	return next, nil
}

// takeSpare returns the segment prepared in the background, or prepares
// one now when there is none, it failed, or it is too small.
func (l *appendLog) takeSpare(n int) (*segment, error) {
	if l.preparing {
		l.preparing = false
		sp := <-l.spare
		if sp.err == nil && len(sp.s.data) >= n {
			return sp.s, nil
		}
		if sp.err == nil {
			_ = sp.s.release(true)
		}
	}
	return prepareSegment(l.dir, max(l.segMax, n))
}

func (l *appendLog) prepareNext() {
	l.preparing = true
	go func() {
		s, err := prepareSegment(l.dir, l.segMax)
		l.spare <- spareSeg{s, err}
	}()
}

// seal makes a sealed segment durable. With Sync "full" every record in
// it already had to be, so it is done here; otherwise in the background
// (an fsync of 16 MiB takes ~10 ms here). The next seal waits for it, so
// after a power loss only the two newest segments can end torn (replay
// cuts a torn tail there and refuses damage anywhere else).
func (l *appendLog) seal(s *segment) {
	if err := l.awaitSeal(); err != nil {
		l.warnSeal(err)
	}
	if l.full {
		if err := s.seal(); err != nil {
			l.warnSeal(err)
		}
		return
	}
	done := make(chan error, 1)
	s.sealDone = make(chan struct{})
	go func() {
		defer close(s.sealDone)
		done <- s.seal()
	}()
	l.sealing = done
}

// warnSeal: a failed seal is worth a warning only (the records are in
// the page cache; only a power loss could tear them).
func (l *appendLog) warnSeal(err error) {
	l.log.Warn("journal: a sealed log segment could not be synced (it may end torn after a power loss)", "err", err)
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

// shut refuses further appends and wakes appends waiting for the indexer.
func (l *appendLog) shut() {
	l.mu.Lock()
	l.closed = true
	l.behind.Broadcast()
	l.mu.Unlock()
}

// close releases what the indexer left: the current segment (cut to its
// records, and removed when everything in it is indexed), segments kept
// after an index failure, and the spare; then the lock. The indexer has
// exited.
func (l *appendLog) close(keep map[string]bool) error {
	first := l.awaitSeal()
	for _, s := range l.segs {
		if !s.sealed {
			first = errors.Join(first, s.seal())
		}
		first = errors.Join(first, s.release(!keep[s.name]))
	}
	l.segs = nil
	if l.preparing {
		l.preparing = false
		if sp := <-l.spare; sp.err == nil {
			first = errors.Join(first, sp.s.release(true))
		}
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
