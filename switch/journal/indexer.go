package journal

import (
	"slices"
	"time"
)

// An entry is durable once its record is in the log; the acquirer hears
// its answer then. SQLite, which queries, duplicate reloads and pruning
// read, is filled behind by the indexer goroutine from the same encoded
// records, so a SQLite transaction (B-tree and index inserts, WAL write,
// commit) is no longer on any answer's path. The two goroutines share
// logBuffers batch buffers: when the indexer falls that far behind, the
// writer waits for a buffer and backpressure reaches Append, so the lag is
// bounded (logBuffers × BatchMax entries) and memory with it.
const (
	logBuffers    = 64
	indexMax      = 2048 // records per index transaction, at most (plus one batch): bounds a reversal write's wait
	indexAttempts = 3
	indexBackoff  = 100 * time.Millisecond
)

// logBatch is one write's records on their way from the writer to the
// indexer.
type logBatch struct {
	buf    []byte
	n      int             // records in buf
	seg    string          // segment they were written to
	sealed string          // segment this batch completed: removable once indexed
	flush  []chan struct{} // Flush markers to release once indexed
}

func (j *Journal) startPipeline(nextID int64) {
	j.nextID = nextID
	j.free = make(chan *logBatch, logBuffers)
	j.toIndex = make(chan *logBatch, logBuffers)
	j.indexed = make(chan struct{})
	j.keep = map[string]bool{}
	j.retireQ = make(chan sealedSeg, logBuffers)
	j.retired = make(chan struct{})
	for range logBuffers {
		j.free <- &logBatch{}
	}
	go j.retirer()
	go j.index()
	go j.run()
}

// writeBatch gives the batch's storable entries their ids, writes their
// records in one write, tells the waiters, and passes the records on.
func (j *Journal) writeBatch(batch []item) {
	lb := <-j.free // backpressure: every buffer waits for the indexer
	first := j.nextID
	for i := range batch {
		it := &batch[i]
		switch {
		case it.done != nil && !it.logOnly:
			lb.flush = append(lb.flush, it.done)
		case it.done == nil && it.err == nil:
			it.e.ID = j.nextID
			j.nextID++
			lb.buf = appendRecord(lb.buf, it.e)
			lb.n++
		}
	}
	var err error
	if lb.n > 0 {
		if err = j.writeLog(lb.buf, first); err != nil {
			j.opt.Log.Error("journal log write failed", "entries", lb.n, "err", err)
			j.unassign(batch, first)
			lb.buf, lb.n = lb.buf[:0], 0
		}
	}
	j.notify(batch, err)
	if lb.n > 0 {
		lb.seg = j.log.name
		lb.sealed = j.rotateLog()
	}
	j.toIndex <- lb // never blocks: it has a slot for every buffer
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

// rotateLog starts the next segment when the current one is full and
// returns the sealed one's name. A failure leaves no segment open; the
// next write retries.
func (j *Journal) rotateLog() string {
	sealed, err := j.log.rotate(j.nextID)
	if err != nil {
		j.opt.Log.Error("journal log rotation failed", "err", err)
		j.log.f = nil
	}
	return sealed
}

// unassign takes back the ids of a batch whose write failed.
func (j *Journal) unassign(batch []item, first int64) {
	j.nextID = first
	for i := range batch {
		if batch[i].e != nil && batch[i].err == nil {
			batch[i].e.ID = 0
		}
	}
}

// index is the indexer goroutine: it takes every batch waiting (up to
// indexMax records) and inserts their records into SQLite in one
// transaction, so a busy writer's many small writes cost the indexer one
// commit; then it removes segments every record of which is indexed,
// releases Flush markers and returns the buffers.
func (j *Journal) index() {
	defer close(j.indexed)
	defer func() { close(j.retireQ); <-j.retired }()

	group := make([]*logBatch, 0, logBuffers)
	for lb := range j.toIndex {
		group = append(group[:0], lb)
		j.gather(&group)
		j.indexGroup(group)
		for _, lb := range group {
			j.release(lb)
		}
	}
}

// gather adds the batches already waiting, up to indexMax records.
func (j *Journal) gather(group *[]*logBatch) {
	n := (*group)[0].n
	for n < indexMax {
		select {
		case lb, ok := <-j.toIndex:
			if !ok {
				return
			}
			*group = append(*group, lb)
			n += lb.n
		default:
			return
		}
	}
}

// release finishes a batch once its records are indexed (or given up on).
func (j *Journal) release(lb *logBatch) {
	if lb.sealed != "" || len(lb.flush) > 0 {
		// Flush markers go through the retirer too, so that Flush also
		// means "the segments before it are retired".
		j.retireQ <- sealedSeg{lb.sealed, j.keep[lb.sealed], slices.Clone(lb.flush)}
	}
	clear(lb.flush)
	lb.buf, lb.n, lb.seg, lb.sealed, lb.flush = lb.buf[:0], 0, "", "", lb.flush[:0]
	j.free <- lb
}

// sealedSeg is a sealed segment whose records are all indexed, or given
// up on (keep), or only Flush markers to release (name "").
type sealedSeg struct {
	name  string
	keep  bool
	flush []chan struct{}
}

// retirer syncs each sealed segment, then removes it unless it holds
// records the indexer gave up on. It is its own goroutine because an fsync
// of 16 MiB takes ~10 ms here: in the writer every answer waited for it,
// and in the indexer the writer would soon wait for a buffer. The sync
// comes first even for a segment about to go: its removal is not durable
// until the directory is, and a segment that comes back after a power
// loss must not be torn.
func (j *Journal) retirer() {
	defer close(j.retired)
	for s := range j.retireQ {
		if s.name != "" {
			j.retire(s.name, s.keep)
		}
		for _, d := range s.flush {
			close(d)
		}
	}
}

func (j *Journal) retire(name string, keep bool) {
	if err := sealSegment(name, j.opt.Sync == "full"); err != nil {
		j.opt.Log.Warn("journal: sealed log segment not synced", "err", err)
	}
	if keep {
		return
	}
	if err := removeSegment(name); err != nil {
		j.opt.Log.Warn("journal: indexed segment not removed (it is replayed, harmlessly, at the next start)",
			"err", err)
	}
}

// indexGroup retries a failed transaction a few times. Records that still
// do not go in stay in the log: their segments are kept, and the next Open
// indexes them.
func (j *Journal) indexGroup(group []*logBatch) {
	n := 0
	for _, lb := range group {
		n += lb.n
	}
	if n == 0 {
		return
	}
	var err error
	for attempt := range indexAttempts {
		if attempt > 0 {
			time.Sleep(indexBackoff << attempt)
		}
		err = j.withWriteConn(func(dc any) error { return j.ins.insertGroup(dc, group) })
		if err == nil {
			break
		}
	}
	j.lag.Add(-int64(n))
	if err != nil {
		for _, lb := range group {
			if lb.n > 0 {
				j.keep[lb.seg] = true
			}
		}
		j.opt.Log.Error("journal: entries durable in the log could not be indexed; their segment is kept and "+
			"they are indexed at the next start", "entries", n, "err", err)
		return
	}
	j.walCheck()
}
