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

// Done entries leave from the head as soon as all before them are done;
// one done out of order waits for those before it.
func TestDeadlineQueueDone(t *testing.T) {
	var q deadlineQueue
	for i := uint32(1); i <= 4; i++ {
		q.push(entry{stan: i, seq: uint64(i), deadline: int64(i * 10)})
	}
	q.done(2)
	assert.Len(t, q.items[q.head:], 4, "1 is still pending")
	q.done(1)
	assert.Len(t, q.items[q.head:], 2)
	q.done(9) // not in the queue
	assert.Len(t, q.items[q.head:], 2)
	q.done(4)
	assert.Equal(t, []uint32{3}, expired(&q, 100), "done entries do not expire")
	q.push(entry{stan: 5, seq: 5, deadline: 50})
	q.done(5)
	assert.Empty(t, q.items, "an emptied queue resets")
}

// An unordered queue's sweep removes entries from the middle; done still
// finds the rest, and the sweep drops those done.
func TestDeadlineQueueDoneUnordered(t *testing.T) {
	var q deadlineQueue
	q.push(entry{stan: 1, seq: 1, deadline: 1000})
	q.push(entry{stan: 2, seq: 2, deadline: 50})
	q.push(entry{stan: 3, seq: 3, deadline: 2000})
	q.push(entry{stan: 4, seq: 4, deadline: 3000})
	assert.Equal(t, []uint32{2}, expired(&q, 60))
	q.done(4)
	q.done(3)
	assert.Len(t, q.items[q.head:], 3, "1 is still pending")
	assert.Equal(t, []uint32{1}, expired(&q, 1000))
	assert.Empty(t, q.items, "done entries are swept too")
	assert.False(t, q.unordered, "an emptied queue is ordered again")
}

// done is harmless for a seq the queue no longer holds: already expired,
// already done, or dropped by a reset (a link teardown).
func TestDeadlineQueueDoneOfWhatIsGone(t *testing.T) {
	var q deadlineQueue
	for i := uint32(1); i <= 3; i++ {
		q.push(entry{stan: i, seq: uint64(i), deadline: int64(i * 10)})
	}
	assert.Equal(t, []uint32{1}, expired(&q, 10))
	q.done(1) // expired
	q.done(2)
	q.done(2) // twice
	assert.Equal(t, []uint32{3}, expired(&q, 30), "3 still expires")

	q.push(entry{stan: 4, seq: 4, deadline: 40})
	q.reset()
	q.done(4) // after a reset
	assert.Empty(t, q.items)
	q.push(entry{stan: 5, seq: 5, deadline: 50})
	assert.Equal(t, []uint32{5}, expired(&q, 50))
}
