package journal

import (
	"time"
)

// An entry is durable once its record is in the log; the acquirer hears
// its answer then. SQLite, which queries, duplicate reloads and pruning
// read, is filled behind by the indexer goroutine from the same encoded
// records, so a SQLite transaction is on no answer's path. The writer
// hands each written batch to the indexer, which copies it into its
// pending row and returns the buffer at once; when the indexer falls
// behind by indexQueue batches the writer stops handing them over and the
// indexer reads the records back from the log (follow.go): the writer
// never waits for the indexer, and memory stays bounded.
const (
	logBuffers    = 256
	indexEvery    = 10 * time.Millisecond // longest a record waits for its index transaction, unless a Flush asks
	indexMax      = 2048                  // records per index transaction, at most (plus one batch): bounds a reversal write's wait
	indexAttempts = 3
	indexBackoff  = 100 * time.Millisecond
)

// logBatch is one write's records: staged, then written, then on their
// way to the indexer.
type logBatch struct {
	buf    []byte
	side   []byte          // in-flight records (inflight.go): written after buf, never indexed
	n      int             // records in buf
	first  int64           // id of the first
	keys   []recKeys       // of each record, in order
	items  []item          // entries with a Waiter or an *Entry to tell, in order
	seg    string          // segment they were written to ("" if not written)
	off    int64           // where in seg the write began
	end    int64           // and ended
	sealed string          // segment this batch completed: removable once indexed
	flush  []chan struct{} // Flush markers to release once indexed
}

func (j *Journal) startPipeline(nextID int64) {
	j.free = newFreeList(logBuffers - 1)
	j.toIndex = make(chan *logBatch, indexQueue)
	j.fol.kick = make(chan struct{}, 1)
	j.fol.to = logPos{seg: j.log.name}
	j.watched = make(chan struct{})
	j.indexed = make(chan struct{})
	j.keep = map[string]bool{}
	j.run = newRun()
	j.sentSeal = newSentSealer(j.seal)
	j.st.cond.L = &j.st.mu
	j.st.cur, j.st.gen, j.st.nextID = &logBatch{}, 1, nextID
	j.kick = make(chan struct{}, 1)
	j.quit = make(chan struct{})
	j.swept = make(chan struct{})
	j.sweep = time.NewTimer(sweepAfter)
	j.sweep.Stop()
	go j.index()
	go j.committer()
	go j.watchLag()
}

// writeLog writes b, first reopening a segment if an earlier rotation
// failed to.
func (j *Journal) writeLog(b []byte, firstID int64) error {
	if j.log.f == nil {
		if err := j.log.startSegment(firstID); err != nil {
			return err
		}
	}
	return j.log.write(b)
}

// rotateLog starts the next segment, for records from nextID on, when the
// current one is full and returns the sealed one's name. A failure leaves
// no segment open; the next write retries.
func (j *Journal) rotateLog(nextID int64) string {
	sealed, sealErr, err := j.log.rotate(nextID)
	if sealErr != nil {
		j.opt.Log.Warn("journal: a sealed log segment could not be synced (it may end torn after a power loss)",
			"err", sealErr)
	}
	if err != nil {
		j.opt.Log.Error("journal log rotation failed", "err", err)
		j.log.f = nil
	}
	return sealed
}

// index is the indexer goroutine. It copies each batch's records into
// one pending row and returns the buffer to the writer at once, then
// commits the row when it holds indexMax records, when a Flush asks, or
// indexEvery after its first record: at moderate rates one transaction
// then carries many small batches (a commit's fixed cost, its locks and
// its partial WAL page, was most of the indexer's cost per entry). When
// the writer spilled (follow.go), it first takes what was queued before,
// then reads the spilled range back from the log, then takes the queue
// again.
func (j *Journal) index() {
	defer close(j.indexed)

	var p pendingRow
	pace := time.NewTimer(indexEvery)
	pace.Stop()
	hold := time.NewTimer(time.Hour)
	defer hold.Stop()
	var holdFor time.Time // the held segment hold is armed for
	for {
		if j.back.active || len(j.toIndex) == 0 && j.takeSpill() {
			pace.Stop()
			j.catchUp(&p)
			continue
		}
		select {
		case <-j.holdUntil(hold, &holdFor):
			holdFor = time.Time{}
			j.removeHeld(false) // a quiet switch's: no commit comes to remove them
		case lb, ok := <-j.toIndex:
			if !ok {
				j.commit(&p)
				for j.back.active || j.takeSpill() {
					j.catchUp(&p)
				}
				return
			}
			first := p.empty()
			if p.n == 0 && lb.n > 0 {
				j.oldest.Store(lb.keys[0].time)
			}
			urgent := p.take(lb)
			j.recycle(lb)
			switch {
			case urgent || p.n >= indexMax:
				pace.Stop()
				j.commit(&p)
			case first:
				pace.Reset(indexEvery)
			}
		case <-pace.C:
			j.commit(&p)
		case <-j.fol.kick:
		}
	}
}

// pendingRow is what the indexer took from the writer and has not
// committed: records, the segments they are in, and the sealed segments
// and Flush markers to act on once they are committed.
type pendingRow struct {
	buf    []byte
	keys   []recKeys
	n      int
	segs   []string // segments holding the records, in order
	sealed []string
	flush  []chan struct{}
}

func (p *pendingRow) empty() bool {
	return p.n == 0 && len(p.sealed) == 0 && len(p.flush) == 0
}

// take copies lb's records and markers; it reports whether a Flush waits.
func (p *pendingRow) take(lb *logBatch) bool {
	if lb.n > 0 {
		p.buf = append(p.buf, lb.buf...)
		p.keys = append(p.keys, lb.keys...)
		p.n += lb.n
		if len(p.segs) == 0 || p.segs[len(p.segs)-1] != lb.seg {
			p.segs = append(p.segs, lb.seg)
		}
	}
	if lb.sealed != "" {
		p.sealed = append(p.sealed, lb.sealed)
	}
	p.flush = append(p.flush, lb.flush...)
	return len(lb.flush) > 0
}

// recycle returns a batch buffer for staging.
func (j *Journal) recycle(lb *logBatch) {
	clear(lb.flush)
	clear(lb.items)
	lb.buf, lb.keys, lb.n, lb.first, lb.seg, lb.sealed = lb.buf[:0], lb.keys[:0], 0, 0, "", ""
	lb.off, lb.end = 0, 0
	lb.side = lb.side[:0]
	lb.flush, lb.items = lb.flush[:0], lb.items[:0]
	j.free.put(lb)
}

// commit indexes the pending row, then removes the sealed segments all of
// whose records are now indexed and releases the Flush markers.
func (j *Journal) commit(p *pendingRow) {
	if p.n > 0 {
		j.indexRow(p)
		j.oldest.Store(0) // the next batch taken, or read back, sets it
	}
	for _, name := range p.sealed {
		if !j.keep[name] {
			j.held = append(j.held, heldSeg{name: name, at: time.Now()})
		}
	}
	j.removeHeld(false)
	for _, d := range p.flush {
		close(d)
	}
	clear(p.segs)
	clear(p.sealed)
	clear(p.flush)
	p.buf, p.keys, p.n, p.segs, p.sealed, p.flush = p.buf[:0], p.keys[:0], 0, p.segs[:0], p.sealed[:0], p.flush[:0]
}

// indexRow retries a failed transaction a few times. Records that still
// do not go in stay in the log: their segments are kept, and the next Open
// indexes them.
func (j *Journal) indexRow(p *pendingRow) {
	j.waitGate()
	var err error
	for attempt := range indexAttempts {
		if attempt > 0 {
			time.Sleep(indexBackoff << attempt)
		}
		err = j.withWriteConn(func(dc any) error { return j.ins.insertOne(dc, p.buf, p.keys) })
		if err == nil {
			break
		}
	}
	j.lag.Add(-int64(p.n))
	if err != nil {
		for _, s := range p.segs {
			j.keep[s] = true
		}
		j.opt.Log.Error("journal: entries durable in the log could not be indexed; their segment is kept and "+
			"they are indexed at the next start", "entries", p.n, "err", err)
		return
	}
	j.walCheck()
}

// heldSeg is an indexed segment kept for its in-flight records
// (Options.InFlightHold) since at.
type heldSeg struct {
	name string
	at   time.Time
}

// holdUntil arms t for when the first held segment's hold ends, unless
// it is armed for that segment already (armed: the time it was held at),
// and returns its channel; nil (never ready) when no segment is held.
func (j *Journal) holdUntil(t *time.Timer, armed *time.Time) <-chan time.Time {
	if len(j.held) == 0 {
		return nil
	}
	if at := j.held[0].at; !at.Equal(*armed) {
		t.Reset(time.Until(at.Add(j.opt.InFlightHold)))
		*armed = at
	}
	return t.C
}

// removeHeld removes the indexed segments held for InFlightHold (all of
// them when all): by then every request recorded in them has finished,
// and its reversal, if it needs one, is stored. Indexer goroutine only
// (or closeLog, after it).
func (j *Journal) removeHeld(all bool) {
	n := 0
	for _, h := range j.held {
		if !all && time.Since(h.at) < j.opt.InFlightHold {
			break
		}
		if err := removeSegment(h.name); err != nil {
			j.opt.Log.Warn("journal: indexed segment not removed (it is replayed, harmlessly, at the next start)",
				"err", err)
		} else if j.opt.removed != nil {
			j.opt.removed(h.name)
		}
		n++
	}
	j.held = append(j.held[:0], j.held[n:]...)
}
