package journal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The index follows the log; it never holds the log up. The writing
// leader hands each written batch to the indexer through a queue of
// indexQueue batches without waiting: when the queue is full (a slow
// transaction, a peak, a paused indexer), it spills instead: it leaves
// the batch's records in the log, recycles its buffer, and from then on
// only moves a frontier (the end of its last write) until the indexer has
// read the log back up to it (catchUp). The answers wait for their log
// write only; what the index has not caught up with costs disk (its
// segments are kept until indexed), not memory, and the queries read it
// from the log (tail.go). Open indexes whatever a crash left unindexed.
//
// Reading back is paced: while the writer keeps writing and the index is
// within Options.IndexLagMax, the indexer takes at most indexShare of a
// core (after a transaction of d it rests d×(1-share)/share, at most
// maxRest), leaving the cores to the answers during a peak and catching
// up once the peak is over; past the bound, or with the writer quiet, it
// reads back at full speed. Reading back indexes in large transactions
// (catchUpMax of log, rows of indexMax).
const (
	indexQueue = logBuffers - 2 // batches queued for the indexer; 2 left for the stage and the write under way
	// catchUpMax is the log read back per index transaction: the largest
	// record fits, and the transaction (a few rows of indexMax) stays short
	// for the reversal writes that share the connection.
	catchUpMax = recHeader + maxRecordSz
	indexShare = 0.25
	maxRest    = 100 * time.Millisecond
)

// logPos is a place in the log: a segment and a byte offset in it.
type logPos struct {
	seg string
	off int64
}

// before orders positions: segment names are zero-padded ids.
func (p logPos) before(q logPos) bool {
	return p.seg < q.seg || p.seg == q.seg && p.off < q.off
}

// follow is what the writing leader and the indexer share (mu): whether
// the writer leaves its batches in the log, from where, up to where, and
// the Flush markers and sealed segments to act on once the index has
// read the log that far.
type follow struct {
	mu      sync.Mutex
	spilled bool
	from    logPos // the first record left in the log
	to      logPos // the end of the last write
	flush   []posMarker
	sealed  []posSeg
	kick    chan struct{} // buffered 1: something was left in the log
}

// posMarker is a Flush marker released once the index reaches pos.
type posMarker struct {
	pos  logPos
	done chan struct{}
}

// posSeg is a sealed segment, removable once the index reaches its end.
type posSeg struct {
	pos  logPos
	name string
}

// readBack is the indexer's range of the log to read back, taken from
// follow when the writer had spilled and the queue was drained.
type readBack struct {
	at, end logPos
	active  bool
}

// handOff passes a written batch to the indexer, or spills it when the
// indexer's queue is full or the writer is spilling already: then its
// records are read back from the log, and its buffer is recycled now. It
// never waits.
func (j *Journal) handOff(lb *logBatch) {
	f := &j.fol
	f.mu.Lock()
	start := f.to
	if lb.seg != "" { // written: entries, or in-flight records only
		f.to = logPos{lb.seg, lb.end}
		if lb.n > 0 {
			start = logPos{lb.seg, lb.off}
		}
	}
	if !f.spilled {
		if lb.n == 0 && len(lb.flush) == 0 && lb.sealed == "" {
			f.mu.Unlock()
			j.recycle(lb) // nothing for the indexer
			return
		}
		select {
		case j.toIndex <- lb:
			f.mu.Unlock()
			return
		default:
		}
		f.spilled, f.from = true, start
	}
	for _, d := range lb.flush {
		f.flush = append(f.flush, posMarker{pos: f.to, done: d})
	}
	if lb.sealed != "" {
		f.sealed = append(f.sealed, posSeg{pos: f.to, name: lb.sealed})
	}
	f.mu.Unlock()
	j.recycle(lb)
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// takeSpill turns what the writer left in the log into the indexer's
// range to read back, and hands new batches back to the queue: they
// follow the range. Call only with the queue drained.
func (j *Journal) takeSpill() bool {
	f := &j.fol
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.spilled {
		return false
	}
	j.back = readBack{at: f.from, end: f.to, active: true}
	f.spilled = false
	return true
}

// catchUp indexes the next part of the range read back, in one
// transaction, after what the indexer holds in p (lower ids).
func (j *Journal) catchUp(p *pendingRow) {
	j.commit(p)
	b := &j.back
	start, to := time.Now(), j.frontier()
	chunk, next, err := j.readLog(b.at, b.end)
	if err != nil {
		j.keep[b.at.seg] = true
		j.opt.Log.Error("journal: a log segment could not be read back for the index; it is kept and "+
			"indexed at the next start", "err", err)
	}
	if len(chunk) > 0 {
		j.indexChunk(chunk, b.at.seg)
	}
	b.at = next
	b.active = b.at != b.end
	j.releaseReached()
	j.removeHeld(false)
	j.rest(time.Since(start), to)
}

// frontier is the end of the writer's last write.
func (j *Journal) frontier() logPos {
	j.fol.mu.Lock()
	defer j.fol.mu.Unlock()
	return j.fol.to
}

// rest paces reading back (see indexShare): after a transaction that took
// d, it rests while the writer has written since to and the index is
// within its bound.
func (j *Journal) rest(d time.Duration, to logPos) {
	if !j.back.active || j.frontier() == to || j.IndexLag() > j.opt.IndexLagMax {
		return
	}
	time.Sleep(min(time.Duration(float64(d)*(1-indexShare)/indexShare), maxRest))
}

// releaseReached releases the Flush markers and holds the sealed
// segments the index has reached.
func (j *Journal) releaseReached() {
	f := &j.fol
	reached := func(p logPos) bool { return !j.back.at.before(p) } // at is the range's end once it is read
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.flush {
		if !reached(m.pos) {
			break
		}
		close(m.done)
		n++
	}
	f.flush = append(f.flush[:0], f.flush[n:]...)
	n = 0
	for _, s := range f.sealed {
		if !reached(s.pos) {
			break
		}
		if !j.keep[s.name] {
			j.held = append(j.held, heldSeg{name: s.name, at: time.Now()})
		}
		n++
	}
	f.sealed = append(f.sealed[:0], f.sealed[n:]...)
}

// readLog reads the whole records from at up to to (or the end of at's
// segment when to is in a later one), at most catchUpMax bytes, and
// returns where the next read starts (the next segment's start once at's
// is read to its end). A segment that cannot be read is given up (the
// caller keeps it for the next Open): next is then past it.
func (j *Journal) readLog(at, to logPos) (chunk []byte, next logPos, err error) {
	next = at
	end, err := segmentEnd(at, to)
	if err == nil && at.off < end {
		n := min(end-at.off, catchUpMax)
		if int64(cap(j.catchBuf)) < n {
			j.catchBuf = make([]byte, n)
		}
		chunk = j.catchBuf[:n]
		if err = readAt(at.seg, chunk, at.off); err == nil {
			good := wholeRecords(chunk)
			if good == 0 {
				err = fmt.Errorf("journal: log segment %s: no whole record at byte %d", at.seg, at.off)
			}
			chunk, next.off = chunk[:good], at.off+int64(good)
		}
	}
	if err != nil {
		chunk = nil
	}
	switch {
	case at.seg == to.seg && err != nil:
		return nil, to, err
	case at.seg == to.seg || err == nil && next.off < end:
		return chunk, next, nil
	}
	following, lerr := nextSegment(j.log.dir, at.seg)
	if lerr != nil { // the directory could not be listed: the next call tries again
		return chunk, next, lerr
	}
	return chunk, logPos{seg: following}, err
}

// segmentEnd is where the indexer may read at's segment up to: the
// writer's frontier in its current segment, the end of a sealed one.
func segmentEnd(at, to logPos) (int64, error) {
	if at.seg == to.seg {
		return to.off, nil
	}
	st, err := os.Stat(at.seg)
	if err != nil {
		return 0, fmt.Errorf("journal: log segment: %w", err)
	}
	return st.Size(), nil
}

func readAt(name string, b []byte, off int64) error {
	f, err := os.Open(name) // #nosec G304 -- our own log directory
	if err != nil {
		return fmt.Errorf("journal: log segment: %w", err)
	}
	defer f.Close()
	if _, err := f.ReadAt(b, off); err != nil {
		return fmt.Errorf("journal: read log segment: %w", err)
	}
	return nil
}

// wholeRecords is the length of b's prefix of whole records, by their
// length headers (the CRCs are checked when they are indexed).
func wholeRecords(b []byte) int {
	off := 0
	for off+recHeader <= len(b) {
		n := int(binary.LittleEndian.Uint32(b[off:]))
		if n > maxRecordSz || off+recHeader+n > len(b) {
			break
		}
		off += recHeader + n
	}
	return off
}

// nextSegment is the first segment after name in dir.
func nextSegment(dir, name string) (string, error) {
	segs, err := segments(dir)
	if err != nil {
		return "", err
	}
	for _, s := range segs {
		if filepath.Base(s) > filepath.Base(name) {
			return s, nil
		}
	}
	return "", fmt.Errorf("journal: no log segment after %s", name)
}

// indexChunk indexes the entries of records read back from seg, in rows
// of indexMax, in one transaction (retried as indexRow does). Their
// checksums are verified; their keys are read without decoding the rest
// (scanKeys), and the in-flight records between them are left out.
func (j *Journal) indexChunk(chunk []byte, seg string) {
	rb := &j.rb
	if err := rb.take(chunk); err != nil {
		j.keep[seg] = true
		j.opt.Log.Error("journal: a log segment read back for the index is damaged; it is kept for the next "+
			"start, which refuses or cuts it", "segment", seg, "err", err)
	}
	n := len(rb.keys)
	if n == 0 {
		return
	}
	j.oldest.Store(rb.keys[0].time)
	j.waitGate()
	var err error
	for attempt := range indexAttempts {
		if attempt > 0 {
			time.Sleep(indexBackoff << attempt)
		}
		err = j.withWriteConn(func(dc any) error { return j.ins.insertRows(dc, rb.buf, rb.keys, rb.ends) })
		if err == nil {
			break
		}
	}
	j.lag.Add(-int64(n))
	if err != nil {
		j.keep[seg] = true
		j.opt.Log.Error("journal: entries durable in the log could not be indexed; their segment is kept and "+
			"they are indexed at the next start", "entries", n, "err", err)
		return
	}
	j.walCheck()
}

// readRows is the indexer's scratch for records read back: the entries'
// records, their keys, and where each row of indexMax ends in buf.
type readRows struct {
	buf  []byte
	keys []recKeys
	ends []int
}

// take fills rr with the entries of chunk (whole records), up to the
// first that is damaged (its error).
func (rr *readRows) take(chunk []byte) error {
	rr.buf, rr.keys, rr.ends = rr.buf[:0], rr.keys[:0], rr.ends[:0]
	var err error
	for off := 0; off+recHeader <= len(chunk); {
		size := int(binary.LittleEndian.Uint32(chunk[off:]))
		p := chunk[off+recHeader : off+recHeader+size]
		if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(chunk[off+4:]) {
			err = fmt.Errorf("checksum at byte %d of the chunk", off)
			break
		}
		if len(p) > 0 && p[0] == recKindV1 {
			k, ok := scanKeys(p)
			if !ok {
				err = fmt.Errorf("entry at byte %d of the chunk does not decode", off)
				break
			}
			rr.buf = append(rr.buf, chunk[off:off+recHeader+size]...)
			rr.keys = append(rr.keys, k)
			if len(rr.keys)%indexMax == 0 {
				rr.ends = append(rr.ends, len(rr.buf))
			}
		}
		off += recHeader + size
	}
	if len(rr.keys)%indexMax != 0 {
		rr.ends = append(rr.ends, len(rr.buf))
	}
	return err
}

// scanKeys reads an entry's keys from its payload (p[0] is recKindV1):
// its id and time, and the hashes of its STAN and RRN, skipping the
// texts before them.
func scanKeys(p []byte) (recKeys, bool) {
	d := decoder{b: p[1:]}
	k := recKeys{id: int64(d.uvarint()), time: d.varint()} // #nosec G115 -- written from a positive int64
	d.uvarint()                                            // conn
	d.varint()                                             // latency
	for range colSTAN {
		d.bytes()
	}
	k.stan = hashKey(keySTAN, d.bytes())
	k.rrn = hashKey(keyRRN, d.bytes())
	return k, !d.bad && k.id > 0
}

// waitGate waits for Options.IndexGate (tests) before an index transaction.
func (j *Journal) waitGate() {
	if g := j.opt.IndexGate; g != nil {
		<-g
	}
}

// IndexLag is how far the index is behind the log: the age of the oldest
// entry not yet indexed (its time as recorded), 0 when the index holds
// every entry written.
func (j *Journal) IndexLag() time.Duration {
	o := j.oldest.Load()
	if j.lag.Load() <= 0 || o == 0 {
		return 0
	}
	return max(0, time.Since(time.Unix(0, o)))
}

// lagLogEvery spaces the warnings while the index is behind its bound.
const lagLogEvery = time.Minute

// watchLag says, in the log, when the index falls behind
// Options.IndexLagMax (at most every lagLogEvery) and when it has caught
// up again. The switch keeps answering meanwhile.
func (j *Journal) watchLag() {
	defer close(j.watched)
	tick := time.NewTicker(min(max(j.opt.IndexLagMax/4, 10*time.Millisecond), time.Second))
	defer tick.Stop()
	var warned time.Time
	over := false
	for {
		select {
		case <-j.quit:
			return
		case <-tick.C:
		}
		lag := j.IndexLag()
		switch {
		case lag > j.opt.IndexLagMax && (!over || time.Since(warned) >= lagLogEvery):
			j.opt.Log.Warn("journal: the index is behind the log past journal.index_lag_max; answers are not "+
				"held back, the entries are durable in the log, txn reads them there, and their segments "+
				"are kept until indexed", "lag", lag.Round(time.Millisecond), "entries", j.Lag(),
				"index_lag_max", j.opt.IndexLagMax)
			over, warned = true, time.Now()
		case over && lag <= j.opt.IndexLagMax:
			j.opt.Log.Info("journal: the index is back within journal.index_lag_max", "lag", lag.Round(time.Millisecond))
			over = false
		}
	}
}
