package journal

import (
	"fmt"
	"runtime"
)

// Entries go in one row per step of a statement prepared once per
// connection (see sqlite_raw.go); the id is the log's (writer.go).

// insertSQL binds the four integers first, then the text columns in
// textCols order.
const insertSQL = `INSERT OR IGNORE INTO entries (id, time, conn, latency_us, acquirer, remote, issuer, mti,
	processing_code, amount, currency, stan, rrn, terminal, transmission_time, pan, response_code,
	outcome, reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`

const textCols = 15

// yieldEvery is how many rows the indexer inserts between yields (~100 µs).
const yieldEvery = 32

// minTextBuf is the first size of the row text buffer; it grows on demand.
const minTextBuf = 1024

// writerStmts is the writer's per-connection state: prepared statements and
// the C buffer a row's text is bound from. Used inside sql.Conn.Raw only.
type writerStmts struct {
	driver any // the driver connection the statements belong to
	c      rawConn
	stmts
	buf    uintptr // C memory, bufLen bytes
	bufLen int
	pins   [pinClasses]uintptr
}

type stmts struct{ ins, begin, commit, rollback, checkpoint rawStmt }

// modernc's C allocator carves blocks of up to 16 KiB from shared 64 KiB
// mmaps, one size class each, and munmaps a mapping when its last block is
// freed. SQLite's B-tree balancing takes a scratch block of several KiB for
// each page split and frees it right after, so every split paid an mmap, an
// munmap and page faults on fresh memory: about a third of the writer's
// time. Holding one block of each larger class (pinned for the writer's
// life) keeps those mappings, and the scratch blocks reuse their slots.
const (
	pinClasses  = 7  // 256 B .. 16 KiB
	pinMinLog   = 8  // smallest class pinned
	mallocExtra = 64 // covers SQLite's size prefix and the allocator's rounding
)

func (w *writerStmts) pin() {
	for i := range w.pins {
		w.pins[i] = w.c.malloc(1<<(pinMinLog+i) - mallocExtra) // 0 on OOM: just not pinned
	}
}

// ready prepares the statements on first use of a driver connection.
func (w *writerStmts) ready(driverConn any) error {
	if w.driver == driverConn && w.ins != 0 {
		return nil
	}
	w.forget()
	c, err := rawOf(driverConn)
	if err != nil {
		return err
	}
	w.c, w.driver = c, driverConn
	for _, s := range []struct {
		dst *rawStmt
		sql string
	}{
		{&w.begin, "BEGIN IMMEDIATE"}, {&w.commit, "COMMIT"}, {&w.rollback, "ROLLBACK"},
		{&w.checkpoint, "PRAGMA wal_checkpoint(PASSIVE)"}, {&w.ins, insertSQL},
	} {
		if *s.dst, err = c.prepare(s.sql); err != nil {
			w.release()
			return fmt.Errorf("journal: prepare: %w", err)
		}
	}
	w.pin()
	return w.grow(minTextBuf)
}

// release finalizes the statements and frees the buffer; it must run on the
// connection they belong to, before it closes.
func (w *writerStmts) release() {
	if w.driver == nil {
		return
	}
	for _, s := range []rawStmt{w.ins, w.begin, w.commit, w.rollback, w.checkpoint} {
		w.c.finalize(s)
	}
	w.c.free(w.buf)
	for _, p := range w.pins {
		w.c.free(p)
	}
	w.forget()
}

// forget drops state that belongs to a connection that is gone.
func (w *writerStmts) forget() { *w = writerStmts{} }

func (w *writerStmts) grow(n int) error {
	if n <= w.bufLen {
		return nil
	}
	n = max(n, 2*w.bufLen, minTextBuf)
	p := w.c.malloc(n)
	if p == 0 {
		return fmt.Errorf("journal: insert: out of memory (%d bytes)", n)
	}
	w.c.free(w.buf)
	w.buf, w.bufLen = p, n
	return nil
}

// insertRecords indexes the log records in buf in one transaction; on
// error nothing of buf is stored. OR IGNORE makes a replay of records that
// are already indexed a no-op (replay.go); a single-row OR IGNORE also
// needs no statement journal.
func (w *writerStmts) insertRecords(driverConn any, buf []byte) error {
	return w.insertGroup(driverConn, []*logBatch{{buf: buf}})
}

// insertGroup is insertRecords for the buffers of several batches.
func (w *writerStmts) insertGroup(driverConn any, group []*logBatch) error {
	if err := w.ready(driverConn); err != nil {
		return err
	}
	c := w.c
	if err := c.run(w.begin); err != nil {
		return fmt.Errorf("journal: begin: %w", err)
	}
	for _, lb := range group {
		if err := w.insertBuf(lb.buf); err != nil {
			w.abort()
			return fmt.Errorf("journal: insert: %w", err)
		}
	}
	if err := c.run(w.commit); err != nil {
		w.abort()
		return fmt.Errorf("journal: commit: %w", err)
	}
	return nil
}

func (w *writerStmts) insertBuf(buf []byte) error {
	var r record
	for off, i := 0, 1; off < len(buf); i++ {
		if i%yieldEvery == 0 {
			// The indexer is the one long CPU burst in the process. Left
			// alone it holds a P until async preemption (10 ms), and the
			// goroutines carrying answers wait for it: that was the p99.
			runtime.Gosched()
		}
		n, err := nextRecord(buf[off:], &r)
		if err == nil && n == 0 {
			err = errBadRecord
		}
		if err == nil {
			err = w.insert(&r)
		}
		if err != nil {
			return err
		}
		off += n
	}
	return nil
}

// abort rolls back whatever is open; the error that got us here is the one
// to report.
func (w *writerStmts) abort() {
	if w.c.inTx() {
		_ = w.c.run(w.rollback)
	}
}

// insert binds r's columns and steps the INSERT once. Text is copied into
// the C buffer, which stays untouched until the step is done.
func (w *writerStmts) insert(r *record) error {
	n := 0
	for _, t := range r.texts {
		n += len(t)
	}
	if err := w.grow(n); err != nil {
		return err
	}
	c, s := w.c, w.ins
	for i, v := range [4]int64{r.id, r.time, r.conn, r.latencyUS} {
		if err := c.bindInt(s, i+1, v); err != nil {
			return err
		}
	}
	buf, off := cbytes(w.buf, w.bufLen), 0
	for i, t := range r.texts {
		// A zero-length value still points into buf: a NULL pointer would bind NULL.
		copy(buf[off:], t)
		if err := c.bindText(s, 5+i, w.buf+uintptr(off), len(t)); err != nil {
			return err
		}
		off += len(t)
	}
	return c.run(s)
}

// ckptResult is PRAGMA wal_checkpoint's row: busy when another checkpoint
// was running, the WAL's frames, and how many of them are in the database.
type ckptResult struct {
	busy      bool
	log, done int64
}

// checkpointWAL runs a PASSIVE checkpoint on the writer's connection,
// between transactions. When all frames are done, the next write
// transaction rewinds the WAL.
func (w *writerStmts) checkpointWAL(driverConn any) (ckptResult, error) {
	if err := w.ready(driverConn); err != nil {
		return ckptResult{}, err
	}
	var busy, log, done int64
	if err := w.c.run(w.checkpoint, &busy, &log, &done); err != nil {
		return ckptResult{}, fmt.Errorf("journal: checkpoint: %w", err)
	}
	return ckptResult{busy: busy != 0, log: log, done: done}, nil
}

// releaseOn finalizes the statements if they belong to driverConn, and
// forgets them otherwise (their connection is gone).
func (w *writerStmts) releaseOn(driverConn any) {
	if w.driver == driverConn {
		w.release()
	}
	w.forget()
}
