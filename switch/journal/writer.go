package journal

import (
	"context"
	"fmt"
)

// item is one queue slot: an entry to insert, or a flush marker (done set).
// Passed by value so Append allocates nothing.
type item struct {
	e    *Entry
	w    Waiter
	err  error         // set by Append when the entry is refused: notify only
	done chan struct{} // flush marker: closed once everything before it committed
}

// Append queues e for the next group commit and returns at once unless the
// queue is full (then it blocks: backpressure). w, if not nil, is told once
// the entry is durable or was refused. A PAN with more than 10 digits is
// refused and never stored.
func (j *Journal) Append(e *Entry, w Waiter) {
	it := item{e: e, w: w, err: checkEntry(e)}
	j.mu.RLock()
	if j.closed || j.readOnly() {
		j.mu.RUnlock()
		if w != nil {
			w.Journaled(e, j.unwritable())
		}
		return
	}
	j.lag.Add(1)
	j.q <- it // Close waits for the write lock, so q is open while we block here
	j.mu.RUnlock()
}

// Flush returns when every entry appended before the call is committed (or
// has been refused), or when ctx ends.
func (j *Journal) Flush(ctx context.Context) error {
	done := make(chan struct{})
	j.mu.RLock()
	if j.closed || j.readOnly() {
		j.mu.RUnlock()
		return j.unwritable()
	}
	select {
	case j.q <- item{done: done}:
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

// Lag is the number of entries appended but not yet committed.
func (j *Journal) Lag() int { return int(j.lag.Load()) }

func (j *Journal) unwritable() error {
	if j.readOnly() {
		return ErrReadOnly
	}
	return ErrClosed
}

// run is the writer goroutine: take what is queued (up to BatchMax, ending
// at a flush marker), commit it in one transaction, notify, repeat. Under
// load batches grow by themselves while the previous commit runs.
func (j *Journal) run() {
	defer close(j.done)
	defer j.closeWriter()
	batch := make([]item, 0, j.opt.BatchMax)
	for {
		it, ok := <-j.q
		if !ok {
			return
		}
		batch = append(batch[:0], it)
		open := j.fill(&batch)
		err := j.commit(batch)
		j.notify(batch, err)
		if err == nil {
			j.walCheck()
		}
		if !open {
			return
		}
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

// commit inserts the batch's storable entries in one transaction and sets
// their IDs. On error nothing of the batch is stored and IDs are reset.
func (j *Journal) commit(batch []item) error {
	n := 0
	for i := range batch {
		if batch[i].e != nil && batch[i].err == nil {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	err := j.insertAll(batch)
	if err != nil {
		for i := range batch {
			if batch[i].e != nil && batch[i].err == nil {
				batch[i].e.ID = 0
			}
		}
		j.opt.Log.Error("journal commit failed", "entries", n, "err", err)
	}
	return err
}

func (j *Journal) insertAll(batch []item) error {
	return j.withWriteConn(func(dc any) error { return j.ins.insertBatch(dc, batch) })
}

// withWriteConn runs f on the write connection's driver connection, which
// database/sql keeps locked (and away from Update and the reversal writes)
// until f returns.
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

// notify tells waiters in Append order, then releases flush markers; a
// marker is last in its batch, so everything before it is settled.
func (j *Journal) notify(batch []item, err error) {
	for i := range batch {
		it := &batch[i]
		if it.done != nil {
			close(it.done)
			continue
		}
		j.lag.Add(-1)
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
