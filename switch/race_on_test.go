//go:build race

package switchd_test

// raceEnabled: the race detector adds allocations of its own, so allocation
// counts are only asserted without it.
const raceEnabled = true
