package replay

// pending is one request awaiting its response on a connection, keyed by
// the STAN it was sent with.
type pending struct {
	seq      uint64 // run-wide send number: tells a reused STAN apart in the deadline queue
	intended int64  // ns since run start the request was meant to leave
	rrn      uint64 // RRN sent (rewrite on), for validation
	tmpl     int32
	warm     bool // sent during warmup: excluded from statistics
}

// deadline is a timeout queue entry. Requests on one connection are
// queued in send order, so deadlines are (nearly) monotonic and expiry
// only ever looks at the head.
type deadline struct {
	seq  uint64
	at   int64 // ns since run start
	stan uint32
}

// deadlineQueue is a growable ring of deadlines; it never shrinks, so a
// steady state allocates nothing.
type deadlineQueue struct {
	buf        []deadline
	head, size int
}

func (q *deadlineQueue) push(d deadline) {
	if q.size == len(q.buf) {
		grown := make([]deadline, max(64, 2*len(q.buf)))
		for i := 0; i < q.size; i++ {
			grown[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = grown, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = d
	q.size++
}

func (q *deadlineQueue) peek() (deadline, bool) {
	if q.size == 0 {
		return deadline{}, false
	}
	return q.buf[q.head], true
}

func (q *deadlineQueue) pop() {
	q.head = (q.head + 1) % len(q.buf)
	q.size--
}

func (q *deadlineQueue) clear() { q.head, q.size = 0, 0 }
