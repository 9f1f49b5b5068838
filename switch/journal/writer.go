package journal

import (
	"context"
	"fmt"
)

// item is one queue slot: an entry to write, or a flush marker (done set).
// Passed by value so Append allocates nothing.
type item struct {
	e       *Entry
	body    []byte // instead of e: an entry encoded by AppendBody
	w       Waiter
	err     error         // set by Append when the entry is refused: notify only
	done    chan struct{} // flush marker: closed once everything before it is indexed
	logOnly bool          // ... or only written to the log (FlushLog)
}

// Append queues e for the next log write and returns at once unless the
// queue is full (then it blocks: backpressure). w, if not nil, is told once
// the entry is durable (e.ID set), or was refused, or its log write failed. A PAN with more than 10 digits is
// refused and never stored.
func (j *Journal) Append(e *Entry, w Waiter) {
	j.enqueue(item{e: e, w: w, err: checkEntry(e)})
}

func (j *Journal) enqueue(it item) {
	j.mu.RLock()
	if j.closed || j.readOnly() {
		j.mu.RUnlock()
		if it.w != nil {
			it.w.Journaled(it.e, j.unwritable())
		}
		return
	}
	j.lag.Add(1)
	j.q <- it // Close waits for the write lock, so q is open while we block here
	j.mu.RUnlock()
}

// AppendEncoded is Append for an entry encoded by AppendBody (which did
// Append's checks); w is told as by Append, with a nil Entry. body must
// not change until then.
func (j *Journal) AppendEncoded(body []byte, w Waiter) {
	j.enqueue(item{body: body, w: w})
}

// Flush returns when every entry appended before the call is indexed, that
// is visible to queries, or was refused or given up on (the error was
// logged; entries in the log are indexed at the next Open), or when ctx
// ends.
func (j *Journal) Flush(ctx context.Context) error { return j.flush(ctx, false) }

// FlushLog returns when every entry appended before the call was written
// to the log (or failed to be) and its Waiter was told, or when ctx ends.
// It does not wait for the indexer.
func (j *Journal) FlushLog(ctx context.Context) error { return j.flush(ctx, true) }

func (j *Journal) flush(ctx context.Context, logOnly bool) error {
	done := make(chan struct{})
	j.mu.RLock()
	if j.closed || j.readOnly() {
		j.mu.RUnlock()
		return j.unwritable()
	}
	select {
	case j.q <- item{done: done, logOnly: logOnly}:
		j.mu.RUnlock()
	case <-ctx.Done():
		j.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Lag is the number of entries appended but not yet indexed: queued for the
// log, or durable in it and waiting for the indexer.
func (j *Journal) Lag() int { return int(j.lag.Load()) }

func (j *Journal) unwritable() error {
	if j.readOnly() {
		return ErrReadOnly
	}
	return ErrClosed
}

// run is the log writer goroutine: take what is queued (up to BatchMax,
// ending at a flush marker), write it to the log in one write, notify,
// hand it to the indexer, repeat. Under load batches grow by themselves
// while the previous write runs. On Close it drains the queue, then waits
// for the indexer.
func (j *Journal) run() {
	defer close(j.done)
	batch := make([]item, 0, j.opt.BatchMax)
	for {
		it, ok := <-j.q
		if !ok {
			break
		}
		batch = append(batch[:0], it)
		open := j.fill(&batch)
		j.writeBatch(batch)
		if !open {
			break
		}
	}
	close(j.toIndex)
	<-j.indexed
	j.closeWriter()
	if err := j.log.close(!j.keep[j.log.name]); err != nil {
		j.opt.Log.Warn("journal: close log", "err", err)
	}
}

// fill drains q without blocking; it reports false once q is closed.
func (j *Journal) fill(batch *[]item) bool {
	for len(*batch) < j.opt.BatchMax && (*batch)[len(*batch)-1].done == nil {
		select {
		case it, ok := <-j.q:
			if !ok {
				return false
			}
			*batch = append(*batch, it)
		default:
			return true
		}
	}
	return true
}

// withWriteConn runs f on the write connection's driver connection, which
// database/sql keeps locked (and away from the reversal writes and
// pruning) until f returns.
func (j *Journal) withWriteConn(f func(driverConn any) error) error {
	conn, err := j.wdb.Conn(context.Background())
	if err != nil {
		return fmt.Errorf("journal: write connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(f)
}

// closeWriter finalizes the writer's statements: a connection closed with
// statements open is kept alive (a zombie) by SQLite.
func (j *Journal) closeWriter() {
	err := j.withWriteConn(func(dc any) error {
		j.ins.releaseOn(dc)
		return nil
	})
	if err != nil {
		j.opt.Log.Warn("journal: release statements", "err", err)
	}
}

// notify tells waiters in Append order that their entries are durable (or
// why not).
func (j *Journal) notify(batch []item, err error) {
	for i := range batch {
		it := &batch[i]
		if it.done != nil {
			if it.logOnly {
				close(it.done) // FlushLog: everything before it was written and told
			}
			continue // a Flush marker is released by the indexer
		}
		if it.err != nil || err != nil {
			j.lag.Add(-1) // never reaches the indexer
		}
		if it.w != nil {
			if it.err != nil {
				it.w.Journaled(it.e, it.err)
			} else {
				it.w.Journaled(it.e, err)
			}
		}
		batch[i] = item{} // drop references for the GC
	}
}
