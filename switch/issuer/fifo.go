package issuer

// entry is a deadline for the request pending under stan; seq tells a
// reused STAN apart from the request the entry was made for.
type entry struct {
	stan     uint32
	seq      uint64
	deadline int64
}

// deadlineQueue holds deadlines in send order. A link has one timeout, so
// send order is deadline order and a sweep only looks at the head;
// answered requests leave stale entries that the sweep skips. Only when a
// reload shortens the timeout can a later entry expire first: the queue
// then notes it is unordered and sweeps it whole until it next empties.
type deadlineQueue struct {
	items     []entry
	head      int
	unordered bool
}

func (q *deadlineQueue) push(e entry) {
	if n := len(q.items); n > q.head && q.items[n-1].deadline > e.deadline {
		q.unordered = true
	}
	if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, e)
}

// expire removes every entry whose deadline is at or before now, calling
// f for each.
func (q *deadlineQueue) expire(now int64, f func(entry)) {
	if q.unordered {
		kept := q.items[:q.head]
		for _, e := range q.items[q.head:] {
			if e.deadline <= now {
				f(e)
			} else {
				kept = append(kept, e)
			}
		}
		q.items = kept
	} else {
		for q.head < len(q.items) && q.items[q.head].deadline <= now {
			f(q.items[q.head])
			q.head++
		}
	}
	if q.head == len(q.items) {
		q.reset()
	}
}

func (q *deadlineQueue) reset() { q.items, q.head, q.unordered = q.items[:0], 0, false }
