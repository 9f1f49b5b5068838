package journal

import (
	"errors"
	"os"
	"syscall"
)

// preallocate reserves size bytes of disk for f, so that stores into its
// mapping never meet a full disk. A file system without fallocate gets a
// sparse file.
func preallocate(f *os.File, size int64) error {
	err := syscall.Fallocate(int(f.Fd()), 0, 0, size) // #nosec G115
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		return f.Truncate(size)
	}
	return err
}
