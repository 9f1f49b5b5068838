package issuer

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func expired(q *deadlineQueue, now int64) []uint32 {
	var got []uint32
	q.expire(now, func(e entry) { got = append(got, e.stan) })
	return got
}

func TestDeadlineQueueInOrder(t *testing.T) {
	var q deadlineQueue
	for i := uint32(1); i <= 5; i++ {
		q.push(entry{stan: i, deadline: int64(i * 10)})
	}
	assert.Empty(t, expired(&q, 5))
	assert.Equal(t, []uint32{1, 2}, expired(&q, 20))
	assert.Equal(t, []uint32{3, 4, 5}, expired(&q, 100))
	assert.Empty(t, q.items, "an emptied queue resets")
}

// A reload that shortens the timeout puts earlier deadlines behind later
// ones; they must still expire on time.
func TestDeadlineQueueShortenedTimeout(t *testing.T) {
	var q deadlineQueue
	q.push(entry{stan: 1, deadline: 1000}) // old, long timeout
	q.push(entry{stan: 2, deadline: 50})   // new, short timeout
	q.push(entry{stan: 3, deadline: 60})
	assert.Equal(t, []uint32{2, 3}, expired(&q, 60))
	assert.Equal(t, []uint32{1}, expired(&q, 1000))
	assert.False(t, q.unordered)
}
