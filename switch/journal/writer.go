package journal

import (
	"context"
	"fmt"
)

// Append journals e: its record is copied into the log, e.ID set and,
// with Sync "full", fsynced; then w, if not nil, is told, before Append
// returns. An entry Append refuses (a PAN with more than 10 digits, which
// is never stored; too much text) or cannot write is given to w with the
// error.
func (j *Journal) Append(e *Entry, w Waiter) {
	err := checkEntry(e)
	if err == nil {
		var buf [512]byte // a typical entry; a bigger one grows onto the heap
		var id int64
		if id, err = j.Write(appendEntryBody(buf[:0], e)); err == nil {
			e.ID = id
		}
	}
	if w != nil {
		w.Journaled(e, err)
	}
}

// Write journals an entry encoded by AppendBody (which did Append's
// checks) and returns its id. When it returns nil the entry is durable
// (Options.Sync says how): the caller may answer the acquirer. body may
// be reused at once.
//
// Write is on every answer's path: under the log's lock it only copies
// the record into the current segment's mapping, and the indexer is woken
// only when it sleeps.
func (j *Journal) Write(body []byte) (int64, error) {
	l := j.log
	if l == nil {
		return 0, ErrReadOnly
	}
	l.mu.Lock()
	id, err := l.append(body)
	l.mu.Unlock()
	if err != nil {
		return 0, err
	}
	j.kick()
	if l.full {
		if err := j.syncTo(id); err != nil {
			return id, err
		}
	}
	return id, nil
}

// kick wakes the indexer when it sleeps without a pending row (it then
// sleeps until woken); while it has one, its pace timer wakes it.
func (j *Journal) kick() {
	if j.idle.Load() && j.idle.CompareAndSwap(true, false) {
		j.poke()
	}
}

func (j *Journal) poke() {
	select {
	case j.wake <- struct{}{}:
	default: // a wake is pending already
	}
}

// Flush returns when every entry appended before the call is indexed, that
// is visible to queries, or was given up on (the error was logged; entries
// in the log are indexed at the next Open), or when ctx ends.
func (j *Journal) Flush(ctx context.Context) error {
	l := j.log
	if l == nil {
		return ErrReadOnly
	}
	done := make(chan struct{})
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	j.flushes = append(j.flushes, done)
	l.mu.Unlock()
	j.poke()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Lag is the number of entries written to the log and not yet indexed.
func (j *Journal) Lag() int {
	l := j.log
	if l == nil {
		return 0
	}
	l.mu.Lock()
	next := l.nextID
	l.mu.Unlock()
	return int(next - l.indexedTo.Load())
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
