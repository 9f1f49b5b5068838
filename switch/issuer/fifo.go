package issuer

import (
	"cmp"
	"slices"
)

// entry is a deadline for the request pending under stan; seq tells a
// reused STAN apart from the request the entry was made for.
type entry struct {
	stan     uint32
	done     bool
	seq      uint64
	deadline int64
}

// deadlineQueue holds deadlines in send order. A link has one timeout, so
// send order is deadline order and a sweep only looks at the head;
// answered requests leave the queue as soon as everything sent before them
// is answered too (see done), otherwise the queue would hold every request
// of the last timeout. Only when a reload shortens the timeout can a later
// entry expire first: the queue then notes it is unordered and sweeps it
// whole until it next empties.
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

// done marks the entry of request seq done (answered, or never sent) and
// drops the done entries at the head.
func (q *deadlineQueue) done(seq uint64) {
	live := q.items[q.head:]
	i, ok := find(live, seq)
	if !ok {
		return
	}
	live[i].done = true
	for q.head < len(q.items) && q.items[q.head].done {
		q.head++
	}
	if q.head == len(q.items) {
		q.reset()
	}
}

// find locates seq's entry. Entries stay in seq order (pushed in it, never
// reordered) and consecutive until a sweep of an unordered queue removes
// some from the middle: only then is the entry searched for.
func find(live []entry, seq uint64) (int, bool) {
	if len(live) == 0 || seq < live[0].seq {
		return 0, false
	}
	if d := seq - live[0].seq; d < uint64(len(live)) && live[d].seq == seq {
		return int(d), true
	}
	return slices.BinarySearchFunc(live, seq, func(e entry, seq uint64) int { return cmp.Compare(e.seq, seq) })
}

// holds reports whether request seq's entry is in the queue, not done: a
// request still pending whose entry is not has expired.
func (q *deadlineQueue) holds(seq uint64) bool {
	live := q.items[q.head:]
	i, ok := find(live, seq)
	return ok && !live[i].done
}

// expire removes every entry whose deadline is at or before now (and,
// sweeping an unordered queue whole, every done one), calling f for each
// one not done.
func (q *deadlineQueue) expire(now int64, f func(entry)) {
	if q.unordered {
		kept := q.items[:q.head]
		for _, e := range q.items[q.head:] {
			switch {
			case e.done:
			case e.deadline <= now:
				f(e)
			default:
				kept = append(kept, e)
			}
		}
		q.items = kept
	} else {
		for q.head < len(q.items) && q.items[q.head].deadline <= now {
			if !q.items[q.head].done {
				f(q.items[q.head])
			}
			q.head++
		}
	}
	if q.head == len(q.items) {
		q.reset()
	}
}

func (q *deadlineQueue) reset() { q.items, q.head, q.unordered = q.items[:0], 0, false }
