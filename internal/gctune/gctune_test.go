package gctune

import (
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
