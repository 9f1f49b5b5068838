package issuer

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSetFrame: the Txn's frame is a copy of the request, kept inside the
// Txn when it fits and on the heap when not; either way the request's
// buffer can be reused at once.
func TestSetFrame(t *testing.T) {
	for _, n := range []int{0, 1, inlineFrame, inlineFrame + 1, 4000} {
		src := bytes.Repeat([]byte{'7'}, n)
		var txn Txn
		txn.SetFrame(src)
		clear(src)
		assert.Equal(t, bytes.Repeat([]byte{'7'}, n), txn.Frame, "n=%d", n)
		inside := n > 0 && &txn.Frame[0] == &txn.inline[0]
		assert.Equal(t, n > 0 && n <= inlineFrame, inside, "n=%d: kept inside the Txn", n)
	}
}
