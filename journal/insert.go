package journal

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
)

// Batches go in one row per step of a statement prepared once per
// connection (see sqlite_raw.go); the ids are the log's (writer.go).

const insertSQL = `INSERT INTO batches (first_id, last_id, count, min_time, max_time, keys, records)
	VALUES (?,?,?,?,?,?,?)`

// minTextBuf is the first size of the row's C buffer; it grows on demand.
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
	meta   batchMeta
	packed []byte // the row's records compressed (pack.go), reused
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

// insertRecords indexes the log records in buf that skip does not refuse
// (indexed already, or past the retention), in rows of at most indexMax,
// in one transaction; on error nothing of buf is stored (replay.go).
func (w *writerStmts) insertRecords(driverConn any, buf []byte, skip func(r *record) bool) error {
	return w.inTx(driverConn, func() error {
		return runs(buf, skip, indexMax, w.insertRow)
	})
}

// insertOne indexes the records in buf, whose keys are ks, as one row, in
// a transaction.
func (w *writerStmts) insertOne(driverConn any, buf []byte, ks []recKeys) error {
	return w.inTx(driverConn, func() error {
		w.meta.buildKeys(ks)
		return w.bindRow(buf)
	})
}

// insertRows indexes the records in buf, whose keys are ks, as rows
// ending at ends (byte offsets in buf, indexMax records each but the
// last), in one transaction.
func (w *writerStmts) insertRows(driverConn any, buf []byte, ks []recKeys, ends []int) error {
	return w.inTx(driverConn, func() error {
		start := 0
		for i, end := range ends {
			w.meta.buildKeys(ks[i*indexMax : min((i+1)*indexMax, len(ks))])
			if err := w.bindRow(buf[start:end]); err != nil {
				return err
			}
			start = end
		}
		return nil
	})
}

// inTx runs fn in a transaction on the writer's connection.
func (w *writerStmts) inTx(driverConn any, fn func() error) error {
	if err := w.ready(driverConn); err != nil {
		return err
	}
	if err := w.c.run(w.begin); err != nil {
		return fmt.Errorf("journal: begin: %w", err)
	}
	if err := fn(); err != nil {
		w.abort()
		return fmt.Errorf("journal: insert: %w", err)
	}
	if err := w.c.run(w.commit); err != nil {
		w.abort()
		return fmt.Errorf("journal: commit: %w", err)
	}
	return nil
}

// runs cuts buf into runs of consecutive records that skipRec does not
// refuse, of at most most records each, and calls emit with each.
func runs(buf []byte, skipRec func(*record) bool, most int, emit func(run []byte, n int) error) error {
	start, off, n := 0, 0, 0
	var emitErr error
	flush := func() bool {
		if n > 0 {
			emitErr, n = emit(buf[start:off], n), 0
		}
		return emitErr == nil
	}
	err := eachRecord(buf, func(r *record) bool {
		skip := r.kind != recKindV1 || skipRec(r) // side records are not indexed (inflight.go)
		if (skip || n == most) && !flush() {
			return false
		}
		if !skip {
			if n == 0 {
				start = off
			}
			n++
		}
		off += len(r.raw)
		return true
	})
	if err == nil {
		flush()
	}
	return cmp.Or(err, emitErr)
}

// insertRow stores the n records in b as one batch row. The records were
// written by this process or checked by replay, so a record that does not
// decode here is a bug, and an error.
func (w *writerStmts) insertRow(b []byte, n int) error {
	m := &w.meta
	if err := m.build(b, n); err != nil {
		return err
	}
	if m.count != int64(n) {
		return fmt.Errorf("batch of %d records holds %d", n, m.count)
	}
	return w.bindRow(b)
}

// insertRowTx is insertRow for the rare writers that go through
// database/sql (migration, pruning): it stores the n records in b as one
// batch row in tx, using meta as scratch.
func insertRowTx(ctx context.Context, tx *sql.Tx, meta *batchMeta, b []byte, n int) error {
	if err := meta.build(b, n); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, insertSQL, meta.first, meta.last, meta.count, meta.minTime, meta.maxTime,
		[]byte(meta.keys), packRecords(nil, b))
	return err
}

// bindRow copies the records and the filter into the C buffer, binds the
// row and steps the INSERT.
func (w *writerStmts) bindRow(b []byte) error {
	w.packed = packRecords(w.packed, b)
	b = w.packed
	m := &w.meta
	if err := w.grow(len(b) + len(m.keys)); err != nil {
		return err
	}
	buf := cbytes(w.buf, w.bufLen)
	copy(buf, b)
	copy(buf[len(b):], m.keys)
	c, s := w.c, w.ins
	for i, v := range [5]int64{m.first, m.last, m.count, m.minTime, m.maxTime} {
		if err := c.bindInt(s, i+1, v); err != nil {
			return err
		}
	}
	if err := c.bindBlob(s, 6, w.buf+uintptr(len(b)), len(m.keys)); err != nil {
		return err
	}
	if err := c.bindBlob(s, 7, w.buf, len(b)); err != nil {
		return err
	}
	return c.run(s)
}

// abort rolls back whatever is open; the error that got us here is the one
// to report.
func (w *writerStmts) abort() {
	if w.c.inTx() {
		_ = w.c.run(w.rollback)
	}
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
