//go:build !race

package switchd_test

const raceEnabled = false
