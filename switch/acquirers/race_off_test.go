//go:build !race

package acquirers_test

const raceEnabled = false
