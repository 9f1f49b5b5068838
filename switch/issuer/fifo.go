package issuer

// entry is a deadline for the request pending under stan; seq tells a
// reused STAN apart from the request the entry was made for.
type entry struct {
	stan     uint32
	seq      uint64
	deadline int64
}

// deadlineQueue holds deadlines in send order. One issuer has one timeout,
// so send order is deadline order and the sweep only looks at the head;
// answered requests leave stale entries that the sweep skips.
type deadlineQueue struct {
	items []entry
	head  int
}

func (q *deadlineQueue) push(e entry) {
	if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, e)
}

func (q *deadlineQueue) peek() (entry, bool) {
	if q.head >= len(q.items) {
		return entry{}, false
	}
	return q.items[q.head], true
}

func (q *deadlineQueue) pop() {
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
}

func (q *deadlineQueue) reset() { q.items, q.head = q.items[:0], 0 }
