package journal

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Entries are staged, then written: whoever needs an entry durable writes
// everything staged in one write(2) (group commit). On the switch's answer
// path that is the acquirer connection's writer, just before it puts the
// answers on the wire (Stage, then Commit): no goroutine sits between an
// answer and its log write, and none hands the answer back (a log writer
// goroutine did the same writes before, behind a queue, and woke each
// answer's connection after). Append and Flush, and the entries nobody
// commits (a late answer's, or one whose connection closed), are written
// by the committer goroutine.

// Ticket names the log write that carries a staged entry; Commit waits
// for it. The zero Ticket carries nothing.
type Ticket uint64

// sweepAfter is the longest an entry staged without a committer waits
// for its log write.
const sweepAfter = 5 * time.Millisecond

// stage is what waits for the next log write, and who writes.
type stage struct {
	mu      sync.Mutex
	cond    sync.Cond // a batch was taken (room to stage) or written
	cur     *logBatch // staged since the last write was taken
	gen     Ticket    // cur's ticket
	written Ticket    // every ticket up to this one is written (or failed)
	writing bool      // a leader is taking or writing a batch
	nextID  int64
	closed  bool
	armed   bool // the sweep timer runs
}

// item is an entry to stage: e with its Waiter (Append), or body encoded
// by AppendBody (Stage).
type item struct {
	e    *Entry
	body []byte
	w    Waiter
}

// Append stages e and returns at once, unless BatchMax entries wait for a
// write already under way (then it blocks: backpressure). w, if not nil,
// is told once the entry is durable (e.ID set), or was refused, or its log
// write failed. A PAN with more than 10 digits is refused and never
// stored.
func (j *Journal) Append(e *Entry, w Waiter) {
	err := checkEntry(e)
	if err == nil {
		_, err = j.stageItem(item{e: e, w: w}, nil, recKeys{})
	}
	if err != nil {
		if w != nil {
			w.Journaled(e, err)
		}
		return
	}
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// Stage copies an entry encoded by AppendBody into the next log write and
// returns its Ticket. It does not write: the caller commits the ticket
// before anything may depend on the entry (the switch, before the answer
// goes out); what nobody commits is written within sweepAfter. Stage
// blocks while BatchMax entries wait for a write already under way.
func (j *Journal) Stage(body []byte) (Ticket, error) {
	return j.stageItem(item{body: body}, nil, recKeys{})
}

// StageFields is Stage for an entry not yet encoded: it is encoded
// straight into the next write (one copy fewer), and refused as
// AppendBody refuses.
func (j *Journal) StageFields(f *Fields) (Ticket, error) {
	if err := checkFields(f); err != nil {
		return 0, err
	}
	return j.stageItem(item{}, f, fieldKeys(f)) // hashed here, outside the stage's lock
}

// fieldKeys is f's keys, as keysOf reads them back from a record (all but
// the id, which the stage gives).
func fieldKeys(f *Fields) recKeys {
	return recKeys{time: f.Time.UnixNano(), rrn: hashKey(keyRRN, f.RRN), stan: hashKey(keySTAN, f.STAN)}
}

// stageItem stages it, or f (checked) with its keys fk when f is not nil.
// f is kept out of item so that it never escapes: the answer path's
// Fields stay on its stack.
func (j *Journal) stageItem(it item, f *Fields, fk recKeys) (Ticket, error) {
	s := &j.st
	s.mu.Lock()
	for {
		if s.closed || j.readOnly() {
			s.mu.Unlock()
			return 0, j.unwritable()
		}
		if s.cur.n < j.opt.BatchMax {
			break
		}
		if !s.writing {
			j.lead()
		} else {
			s.cond.Wait()
		}
	}
	lb, id := s.cur, s.nextID
	if lb.n == 0 {
		lb.first = id
	}
	k, err := encode(lb, id, &it, f, fk)
	if err != nil {
		s.mu.Unlock()
		return 0, err
	}
	lb.keys = append(lb.keys, k)
	if f != nil && f.Closes != 0 {
		lb.side = appendClose(lb.side, j.run, f.Closes)
	}
	if it.e != nil || it.w != nil {
		lb.items = append(lb.items, it)
	}
	lb.n++
	s.nextID++
	j.lag.Add(1)
	t, arm := s.gen, !s.armed
	s.armed = true
	s.mu.Unlock()
	if arm {
		j.sweep.Reset(sweepAfter)
	}
	return t, nil
}

// encode appends the record of f (with its keys fk) or else of it, under
// id, to lb and returns its keys. A body that does not decode (not made
// by AppendBody) is refused.
func encode(lb *logBatch, id int64, it *item, f *Fields, fk recKeys) (recKeys, error) {
	start := len(lb.buf)
	switch {
	case f != nil:
		lb.buf = seal(appendBody(appendHead(lb.buf, id), f), start)
		fk.id = id
		return fk, nil
	case it.e != nil:
		it.e.ID = id
		lb.buf = appendRecord(lb.buf, it.e)
	default:
		lb.buf = appendEncoded(lb.buf, id, it.body)
		it.body = nil // copied
	}
	// The rare paths (Append, a deferred answer's Stage) read their keys
	// back from the record.
	var r record
	if _, err := decodeTrusted(lb.buf[start:], &r); err != nil {
		lb.buf = lb.buf[:start]
		if it.e != nil {
			it.e.ID = 0
		}
		return recKeys{}, fmt.Errorf("journal: entry refused: %w", err)
	}
	return keysOf(&r), nil
}

// Commit returns once the entries of every ticket up to t are written to
// the log, or their write failed (logged, and counted by
// Options.WriteFailed). When no write is under way the caller writes.
func (j *Journal) Commit(t Ticket) {
	s := &j.st
	s.mu.Lock()
	for s.written < t {
		if s.writing {
			s.cond.Wait()
		} else {
			j.lead()
		}
	}
	s.mu.Unlock()
}

// lead takes what is staged and writes it. s.mu is held on entry and on
// return, and released in between.
func (j *Journal) lead() {
	s := &j.st
	s.writing = true
	s.mu.Unlock()
	next := j.free.get() // never waits (follow.go)
	s.mu.Lock()
	lb, t, nextID := s.cur, s.gen, s.nextID
	s.cur, s.gen = next, t+1
	s.cond.Broadcast() // room to stage
	s.mu.Unlock()
	j.writeOut(lb, nextID)
	s.mu.Lock()
	s.written, s.writing = t, false
	s.cond.Broadcast()
}

// writeOut writes lb's records in one write, tells their waiters, seals
// the segment if it is due (nextID: the first id staged after lb) and
// hands the records on to the indexer (follow.go). A failed write loses
// the batch's ids: nothing was told of them but the waiters, who hear the
// error.
func (j *Journal) writeOut(lb *logBatch, nextID int64) {
	var err error
	if lb.n > 0 || len(lb.side) > 0 {
		out := lb.buf
		if len(lb.side) > 0 { // after the entries: buf alone goes to the indexer
			out = append(lb.buf, lb.side...)
			lb.buf = out[:len(lb.buf)]
		}
		if err = j.writeLog(out, lb.first); err != nil {
			j.opt.Log.Error("journal log write failed", "entries", lb.n, "err", err)
			j.lag.Add(-int64(lb.n))
			if j.opt.WriteFailed != nil {
				j.opt.WriteFailed(lb.n)
			}
			lb.buf, lb.keys, lb.n = lb.buf[:0], lb.keys[:0], 0
		} else {
			lb.seg, lb.end = j.log.name, j.log.size
			lb.off = lb.end - int64(len(out))
		}
	}
	j.notify(lb.items, err)
	lb.sealed = j.rotateLog(nextID)
	if lb.seg == "" && len(lb.flush) == 0 && lb.sealed == "" {
		j.recycle(lb)
		return
	}
	j.handOff(lb)
}

// notify tells the waiters of a batch, in Append order, that their
// entries are durable (or why not).
func (j *Journal) notify(items []item, err error) {
	for i := range items {
		it := &items[i]
		if err != nil && it.e != nil {
			it.e.ID = 0
		}
		if it.w != nil {
			it.w.Journaled(it.e, err)
		}
		items[i] = item{} // drop references for the GC
	}
}

// committer writes for Append's waiters (kick) and what was staged but
// not committed within sweepAfter.
func (j *Journal) committer() {
	defer close(j.swept)
	age := time.NewTicker(j.opt.segAge / 4)
	defer age.Stop()
	for {
		select {
		case <-j.quit:
			return
		case <-j.kick:
		case <-j.sweep.C:
			j.st.mu.Lock()
			j.st.armed = false
			j.st.mu.Unlock()
		case <-age.C:
			j.sealIdle()
			continue
		}
		j.commitStaged()
	}
}

// sealIdle leads a write, of whatever is staged (often nothing), so that
// a segment past segAge is sealed although no write comes to seal it.
func (j *Journal) sealIdle() {
	s := &j.st
	s.mu.Lock()
	for s.writing && !s.closed {
		s.cond.Wait()
	}
	if !s.closed {
		j.lead()
	}
	s.mu.Unlock()
}

// commitStaged writes what is staged now, if anything.
func (j *Journal) commitStaged() {
	s := &j.st
	s.mu.Lock()
	idle := s.cur.n == 0 && len(s.cur.flush) == 0 && len(s.cur.side) == 0
	t := s.gen
	s.mu.Unlock()
	if !idle {
		j.Commit(t)
	}
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
	// A context already done is answered as such: below, a commit with
	// nothing to write can be as ready as ctx.Done, and select picks at
	// random.
	if err := ctx.Err(); err != nil {
		return err
	}
	s := &j.st
	s.mu.Lock()
	if s.closed || j.readOnly() {
		s.mu.Unlock()
		return j.unwritable()
	}
	var indexed chan struct{}
	if !logOnly {
		indexed = make(chan struct{}) // closed by the indexer
		s.cur.flush = append(s.cur.flush, indexed)
	}
	t := s.gen
	s.mu.Unlock()
	written := make(chan struct{})
	go func() { j.Commit(t); close(written) }()
	select {
	case <-written:
	case <-ctx.Done():
		return ctx.Err()
	}
	if logOnly {
		return nil
	}
	select {
	case <-indexed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Lag is the number of entries appended but not yet indexed: staged for
// the log, or durable in it and waiting for the indexer.
func (j *Journal) Lag() int { return int(j.lag.Load()) }

func (j *Journal) unwritable() error {
	if j.readOnly() {
		return ErrReadOnly
	}
	return ErrClosed
}

// closeLog refuses new entries, writes what is staged, waits for the
// indexer and closes the log.
func (j *Journal) closeLog() {
	s := &j.st
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast() // stagers waiting for room give up
	s.mu.Unlock()
	close(j.quit)
	<-j.swept
	<-j.watched
	j.sweep.Stop()
	s.mu.Lock()
	for s.writing {
		s.cond.Wait()
	}
	j.lead()         // everything staged, and the Flush markers
	s.writing = true // for good: the log is closed below
	s.mu.Unlock()
	close(j.toIndex)
	<-j.indexed
	j.closeWriter()
	j.removeHeld(true) // a clean stop: every request was finished
	if err := j.log.close(!j.keep[j.log.name]); err != nil {
		j.opt.Log.Warn("journal: close log", "err", err)
	}
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
