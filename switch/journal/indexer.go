package journal

import (
	"encoding/binary"
	"sync"
	"time"
)

// An entry is durable once its record is in the log; the acquirer hears
// its answer then. SQLite, which queries, duplicate reloads and pruning
// read, is filled behind by the indexer goroutine from the same records,
// read from the segments' mappings, so a SQLite transaction is on no
// answer's path. The indexer wakes indexEvery after the first record it
// has not taken (or at once for a Flush), takes everything appended since,
// and commits it in rows of at most indexMax records: at moderate rates
// one transaction carries many answers (a commit's fixed cost, its locks
// and its partial WAL page, was most of the indexer's cost per entry).
// Writers never wait for it unless it falls maxLag records behind.
const (
	indexEvery    = 10 * time.Millisecond // longest a record waits for its index transaction, unless a Flush asks
	indexMax      = 2048                  // records per index transaction, at most: bounds a reversal write's wait
	indexAttempts = 3
	indexBackoff  = 100 * time.Millisecond
)

func (j *Journal) startPipeline(nextID int64) {
	j.wake = make(chan struct{}, 1)
	j.stop = make(chan struct{})
	j.indexed = make(chan struct{})
	j.keep = map[string]bool{}
	j.log.indexedTo.Store(nextID)
	j.idle.Store(true) // nothing to index yet: the first append wakes it
	j.syncer.cond = sync.NewCond(&j.syncer.mu)
	j.log.wakeIndexer = j.poke
	go j.index()
}

// index is the indexer goroutine.
func (j *Journal) index() {
	defer close(j.indexed)
	var (
		p     pendingRow
		at    cursor
		armed bool // pace runs: p holds records
	)
	pace := time.NewTimer(indexEvery)
	pace.Stop()
	for {
		due, stopping := false, false
		select {
		case <-j.wake:
		case <-pace.C:
			armed, due = false, true
		case <-j.stop:
			stopping = true
		}
		for j.take(&p, &at) { // a full row: commit it now
			j.commit(&p)
		}
		switch {
		case due || stopping || len(p.flush) > 0 || p.urgent:
			if armed {
				pace.Stop()
				armed = false
			}
			j.commit(&p)
		case p.n > 0 && !armed:
			pace.Reset(indexEvery)
			armed = true
		}
		if stopping {
			return
		}
		if !armed {
			j.sleep(&p, &at, pace, &armed)
		}
	}
}

// sleep marks the indexer idle (writers then wake it), unless something
// was appended in the meantime: then it arms the pace timer instead.
func (j *Journal) sleep(p *pendingRow, at *cursor, pace *time.Timer, armed *bool) {
	j.idle.Store(true)
	j.take(p, at)
	if p.n == 0 && len(p.flush) == 0 {
		return
	}
	j.idle.Store(false)
	if p.n > 0 {
		pace.Reset(indexEvery)
		*armed = true
	}
	if len(p.flush) > 0 {
		j.poke() // commit at once
	}
}

// cursor is how far the indexer has taken the log: the segment it reads
// and the bytes and records of it taken.
type cursor struct {
	s    *segment
	off  int
	n    int
	next int64 // id of the next record to take
}

// segView is a segment as it stood under the log's lock.
type segView struct {
	s      *segment
	size   int
	n      int
	sealed bool
}

// take copies records appended since the last take into p, up to indexMax
// in p, and the Flush markers once it has taken everything appended before
// them. It reports whether p is full and more records wait.
func (j *Journal) take(p *pendingRow, at *cursor) (more bool) {
	l := j.log
	l.mu.Lock()
	j.views = j.views[:0]
	for _, s := range l.segs {
		j.views = append(j.views, segView{s: s, size: s.size, n: s.n, sealed: s.sealed})
	}
	nflush := len(j.flushes)
	p.urgent = p.urgent || l.waiting > 0
	l.mu.Unlock()

	for _, v := range j.views {
		if at.s != nil && v.s.first < at.s.first {
			continue // taken; released at the next commit
		}
		if at.s != v.s {
			*at = cursor{s: v.s, next: v.s.first}
		}
		if room := indexMax - p.n; v.n-at.n > room {
			end := recordsEnd(v.s.data, at.off, room)
			p.add(v.s, v.s.data[at.off:end], room)
			at.off, at.n, at.next = end, at.n+room, at.next+int64(room)
			p.to = at.next
			return true
		}
		if v.n > at.n {
			p.add(v.s, v.s.data[at.off:v.size], v.n-at.n)
			at.next += int64(v.n - at.n)
			at.off, at.n = v.size, v.n
		}
		if v.sealed && !p.hasSealed(v.s) {
			p.sealed = append(p.sealed, v.s)
		}
	}
	p.to = at.next
	l.mu.Lock()
	p.flush = append(p.flush, j.flushes[:nflush]...)
	j.flushes = append(j.flushes[:0], j.flushes[nflush:]...)
	l.mu.Unlock()
	return false
}

// indexed records that every id below to is indexed (or given up on) and
// wakes the appends waiting for that.
func (l *appendLog) indexed(to int64) {
	l.indexedTo.Store(to)
	l.mu.Lock()
	if l.waiting > 0 {
		l.behind.Broadcast()
	}
	l.mu.Unlock()
}

// recordsEnd is the offset after k records from off in b.
func recordsEnd(b []byte, off, k int) int {
	for ; k > 0; k-- {
		off += recHeader + int(binary.LittleEndian.Uint32(b[off:]))
	}
	return off
}

// pendingRow is what the indexer took and has not committed: records,
// the segments they are in, the sealed segments wholly taken, the Flush
// markers to release once committed, and the id after the last record.
type pendingRow struct {
	buf    []byte
	n      int
	segs   []string // segments holding the records, in order
	sealed []*segment
	flush  []chan struct{}
	to     int64
	urgent bool // appends wait for the indexer to release segments
}

func (p *pendingRow) add(s *segment, recs []byte, n int) {
	p.buf = append(p.buf, recs...)
	p.n += n
	if len(p.segs) == 0 || p.segs[len(p.segs)-1] != s.name {
		p.segs = append(p.segs, s.name)
	}
}

func (p *pendingRow) hasSealed(s *segment) bool {
	return len(p.sealed) > 0 && p.sealed[len(p.sealed)-1] == s
}

// commit indexes the pending row, then releases the sealed segments all
// of whose records are now indexed (removing their files unless an index
// failure keeps them) and the Flush markers.
func (j *Journal) commit(p *pendingRow) {
	if p.n > 0 {
		j.indexRow(p)
	}
	if p.to > 0 {
		j.log.indexed(p.to)
	}
	if len(p.sealed) > 0 {
		j.release(p.sealed)
	}
	for _, d := range p.flush {
		close(d)
	}
	clear(p.segs)
	clear(p.sealed)
	clear(p.flush)
	p.buf, p.n, p.segs, p.sealed, p.flush = p.buf[:0], 0, p.segs[:0], p.sealed[:0], p.flush[:0]
	p.urgent = false
}

// release drops indexed sealed segments (the oldest of the log's).
func (j *Journal) release(done []*segment) {
	l := j.log
	l.mu.Lock()
	k := 0
	for k < len(l.segs) && k < len(done) && l.segs[k] == done[k] {
		k++
	}
	l.segs = append(l.segs[:0], l.segs[k:]...)
	l.mu.Unlock()
	for _, s := range done {
		if err := s.release(!j.keep[s.name]); err != nil {
			j.opt.Log.Warn("journal: indexed segment not removed (it is replayed, harmlessly, at the next start)",
				"err", err)
		}
	}
}

// indexRow retries a failed transaction a few times. Records that still
// do not go in stay in the log: their segments are kept, and the next Open
// indexes them.
func (j *Journal) indexRow(p *pendingRow) {
	var err error
	for attempt := range indexAttempts {
		if attempt > 0 {
			time.Sleep(indexBackoff << attempt)
		}
		err = j.withWriteConn(func(dc any) error { return j.ins.insertOne(dc, p.buf, p.n) })
		if err == nil {
			break
		}
	}
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
