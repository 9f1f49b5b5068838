package gctune

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestApply(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	assert.Equal(t, Percent, apply(env(nil)), "no operator setting: the switch's")
	assert.Equal(t, Percent, current())

	debug.SetGCPercent(250)
	assert.Equal(t, 250, apply(env(map[string]string{"GOGC": "250"})), "the operator's GOGC wins")
	assert.Equal(t, 250, current())
	assert.Equal(t, 250, apply(env(map[string]string{"GOMEMLIMIT": "1GiB"})), "so does a memory limit")
	assert.Equal(t, Percent, apply(env(map[string]string{"GOGC": ""})), "an empty GOGC is no setting")
}

// The configured memory limit is applied at start (debug.SetMemoryLimit
// reads it back); an operator's GOMEMLIMIT wins, and 0 leaves the
// runtime's own (no limit).
func TestApplyMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	const gib = 1 << 30
	got := applyAll(env(nil), gib)
	assert.Equal(t, int64(gib), debug.SetMemoryLimit(-1), "the configured limit is in force")
	assert.Equal(t, Settings{GOGC: Percent, MemoryLimit: gib}, got)

	debug.SetMemoryLimit(512 << 20) // what the runtime read from GOMEMLIMIT at start
	got = applyAll(env(map[string]string{"GOMEMLIMIT": "512MiB"}), gib)
	assert.Equal(t, int64(512<<20), debug.SetMemoryLimit(-1), "the operator's GOMEMLIMIT wins")
	assert.True(t, got.FromEnv)
	assert.Equal(t, int64(512<<20), got.MemoryLimit)

	debug.SetMemoryLimit(math.MaxInt64)
	got = applyAll(env(nil), 0)
	assert.Equal(t, int64(math.MaxInt64), debug.SetMemoryLimit(-1), "0: no limit")
	assert.Equal(t, int64(math.MaxInt64), got.MemoryLimit)
}
