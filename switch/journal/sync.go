package journal

import (
	"errors"
	"os"
	"sync"
	"syscall"
)

// syncer is the group commit of Sync "full": a writer that needs its
// record on disk either runs the fdatasync that covers it, or waits for
// the one running and, if that one started too early for it, runs the
// next. Every writer that arrives during one fdatasync is covered by the
// next: one disk flush per burst, not per entry.
type syncer struct {
	mu      sync.Mutex
	cond    *sync.Cond
	synced  int64 // every id up to this one is on disk
	running bool
}

// syncTo returns once the record id is on disk.
func (j *Journal) syncTo(id int64) error {
	sy := &j.syncer
	sy.mu.Lock()
	defer sy.mu.Unlock()
	for sy.synced < id {
		if sy.running {
			sy.cond.Wait()
			continue
		}
		sy.running = true
		sy.mu.Unlock()
		to, err := j.log.syncCurrent()
		sy.mu.Lock()
		sy.running = false
		sy.cond.Broadcast()
		if err != nil {
			return err
		}
		sy.synced = max(sy.synced, to)
	}
	return nil
}

// syncCurrent flushes the current segment to disk and returns the highest
// id it covers. Sealed segments were flushed when sealed (Sync "full" seals
// in the rotation), so every record up to that id is then on disk.
func (l *appendLog) syncCurrent() (int64, error) {
	l.mu.Lock()
	s, to := l.cur(), l.nextID-1
	l.mu.Unlock()
	if s == nil {
		return to, nil
	}
	rc, err := s.f.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) { err = syscall.Fdatasync(int(fd)) }) // #nosec G115
		if err == nil {
			err = cerr
		}
	}
	if errors.Is(err, os.ErrClosed) {
		return to, nil // sealed, hence flushed, and released since
	}
	return to, err
}
