package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// A segment is one log file, mapped into memory. An append is a copy
// into the mapping under the log's lock: no system call and no hand-off
// to another goroutine on an answer's path. A store into a shared file
// mapping is in the kernel's page cache at once, so it survives the
// process (kill -9) exactly as a write(2) would; Sync "full" adds an
// fsync (sync.go). Segments are created, allocated on disk and mapped in
// the background before they are needed (prepareSegment), so a rotation
// costs a rename, and a store never meets a full disk (which in a sparse
// mapping is SIGBUS, not an error). Their pages are not touched ahead:
// faulting in 16 MiB at once (by touching every page, or with
// MADV_POPULATE_WRITE) took a core for ~15 ms per segment and doubled the
// p99 added at 120k/s (+1.4 -> +3.5 ms in alternating runs), while a fault
// per page in the appends (~20 records) spreads the same work out.
type segment struct {
	name  string
	f     *os.File
	data  []byte // the mapping; records fill it from the start, zeros follow
	first int64  // id of its first record

	sealDone chan struct{} // closed when a background seal ends (nil: none ran)

	// Under appendLog.mu.
	size   int  // bytes of records
	n      int  // records
	sealed bool // full: no record is added any more
}

// spareName is the segment being prepared; it is renamed after the id of
// its first record when it becomes the current one.
const spareName = "next.tmp"

// prepareSegment creates and maps a segment file of at least size bytes
// (rounded up to whole pages) in dir.
func prepareSegment(dir string, size int) (*segment, error) {
	page := os.Getpagesize()
	size = (size + page - 1) / page * page
	name := filepath.Join(dir, spareName)
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600) // #nosec G304 -- our own log directory
	if err != nil {
		return nil, fmt.Errorf("journal: log segment: %w", err)
	}
	fail := func(err error) (*segment, error) {
		f.Close()
		_ = os.Remove(name)
		return nil, fmt.Errorf("journal: log segment: %w", err)
	}
	if err := preallocate(f, int64(size)); err != nil {
		return fail(err)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED) // #nosec G115
	if err != nil {
		return fail(fmt.Errorf("mmap: %w", err))
	}
	return &segment{name: name, f: f, data: data}, nil
}

// room reports whether n more bytes fit.
func (s *segment) room(n int) bool { return s.size+n <= len(s.data) }

// seal cuts the file to its records and makes it durable. The mapping
// stays for the indexer (it reads only below size).
func (s *segment) seal() error {
	return errors.Join(s.f.Truncate(int64(s.size)), s.f.Sync())
}

// release unmaps and closes the segment, after its seal (a kept segment
// must end cut and synced); remove also deletes the file.
func (s *segment) release(remove bool) error {
	if s.sealDone != nil {
		<-s.sealDone
	}
	var err error
	if s.data != nil {
		err = syscall.Munmap(s.data)
		s.data = nil
	}
	err = errors.Join(err, s.f.Close())
	if remove {
		err = errors.Join(err, removeSegment(s.name))
	}
	return err
}
