//go:build unix

package iso

import "syscall"

// processCPU is the process's user and system CPU time in nanoseconds:
// benchmarks report it per operation, a figure that holds on a loaded
// machine where wall time does not.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
