//go:build !unix

package iso

func processCPU() int64 { return 0 }
