//go:build !linux

package journal

import "os"

// preallocate sizes f; without fallocate the file is sparse.
func preallocate(f *os.File, size int64) error { return f.Truncate(size) }
