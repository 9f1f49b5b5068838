package switchd

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCodeString(t *testing.T) {
	for _, c := range []string{"00", "05", "51", "91", "99", "N7", "0", "", "1x", "123"} {
		assert.Equal(t, c, codeString([]byte(c)))
	}
	b := []byte("51")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = codeString(b) }))
}
