package journal

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"time"
)

// In-flight records: a request is recorded in the log before it is
// written to an issuer link, and closed by its answer's entry (or by
// StageDone when it never went out), so that Open can reverse, after a
// crash, every request an issuer may have taken that was never finished.
//
// They are side records: written in the same log write as the entries of
// their batch (the link's writer commits their ticket before it sends,
// as an acquirer's writer does for answers: no second durability path and
// no write of their own), but never indexed, since they are not entries.
//
//	kind 2 (sent):  uvarint run, uvarint seq, varint time (unix ns),
//	                issuer, uvarint link STAN, MTI, then one text per
//	                SentFields id (empty: absent), then the length of a
//	                sealed section (0: none) and the section: the PAN,
//	                sealed (seal.go, sentSealer)
//	kind 3 (close): uvarint run, uvarint seq
//
// (run, seq) pairs a close with its sent record: run is drawn at Open, seq
// counts the run's records. The record holds only what the 0420 needs:
// the fields it copies, none of them card data, in clear, and the PAN
// (its field 2: issuers find the account by it) sealed with the stored
// messages' key, never in clear. Track data, PIN block and CVV are not in
// it at all. The sealed PAN lasts as long as the record's segment: that
// is removed once indexed and InFlightHold has passed (by then the
// request is answered, or its reversal stored with the PAN inside its own
// sealed frame), and Open removes the log once it has stored the
// reversals of the records left open.
const (
	recKindSent  = 2
	recKindClose = 3
)

// SentFields are the request fields a sent record keeps: those the 0420
// copies from its original, and 7 for its field 90.
var SentFields = [...]int{3, 4, 7, 11, 12, 13, 22, 25, 32, 33, 37, 41, 42, 49}

// Sent is a request about to be written to an issuer link.
type Sent struct {
	Time     time.Time // when the request arrived (the reversal's Created)
	Issuer   string
	LinkSTAN uint32 // field 11 as the issuer sees it (field 90 of the 0420)
	MTI      []byte
	// Fields holds SentFields' values in order, nil where absent.
	Fields [len(SentFields)][]byte
	// PAN is the card number (field 2, or track 2's), for the 0420's
	// field 2: StageSent seals it into the record (without a key it is
	// left out); nil when the request has none, or when Open could not
	// open it.
	PAN []byte
	// Claim, when set, is the request's duplicate key (DupClaimKey): the
	// PostgreSQL journal claims it across nodes in the write that commits
	// the record (pg_claims.go); the SQLite journal ignores it.
	Claim []byte
}

// Field returns the value of field id (one of SentFields), nil if absent.
func (s *Sent) Field(id int) []byte {
	for i, f := range SentFields {
		if f == id {
			return s.Fields[i]
		}
	}
	return nil
}

// sentKey pairs a sent record with its close.
type sentKey struct{ run, seq uint64 }

// newRun draws the run that tells this Open's in-flight records from an
// earlier run's.
func newRun() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano()) // #nosec G115 -- bits
	}
	return binary.LittleEndian.Uint64(b[:])
}

// StageSent stages the in-flight record of s with the next log write and
// returns its ticket and its seq (for StageDone and Fields.Closes). The
// caller commits the ticket before the request goes out (the link's
// writer gate).
func (j *Journal) StageSent(s *Sent) (Ticket, uint32, error) {
	var p PreparedSent
	if err := j.PrepareSent(&p, s); err != nil {
		return 0, 0, err
	}
	return j.StagePrepared(&p, s.LinkSTAN)
}

// PreparedSent is an in-flight record encoded and its PAN sealed ahead
// of the issuer link's lock, where the link STAN is drawn: the switch
// prepares it on the acquirer's goroutine (PrepareSent), and under the
// lock StagePrepared only puts the STAN in, checksums and copies it.
// Encoding and sealing took most of that lock's hold time, which every
// acquirer connection sending to the link waits for. The zero value is
// ready to use; its buffer is reused.
type PreparedSent struct {
	buf    []byte // the whole record; its header, and the STAN at stanAt, filled in by StagePrepared
	stanAt int
	seq    uint32
	aad    sentAAD
}

// Seq is the record's seq, as StagePrepared returns it.
func (p *PreparedSent) Seq() uint32 { return p.seq }

// PrepareSent encodes the in-flight record of s (its LinkSTAN is left
// for StagePrepared) into p, and draws its seq.
func (j *Journal) PrepareSent(p *PreparedSent, s *Sent) error {
	if len(s.Issuer)+len(s.MTI)+len(s.PAN) > 1024 {
		return fmt.Errorf("journal: in-flight record refused: issuer, MTI or PAN too long")
	}
	p.seq = j.sentSeq.Add(1)
	if p.seq == 0 {
		p.seq = j.sentSeq.Add(1)
	}
	p.buf, p.stanAt = appendSentAt(p.buf[:0], j.run, p.seq, s, j.sentSeal, &p.aad)
	return nil
}

// StagePrepared stages p, with linkSTAN, like StageSent: its ticket and
// its seq.
func (j *Journal) StagePrepared(p *PreparedSent, linkSTAN uint32) (Ticket, uint32, error) {
	putUvarint5(p.buf[p.stanAt:], linkSTAN)
	seal(p.buf, 0)
	st := &j.st
	st.mu.Lock()
	if err := j.roomLocked(); err != nil {
		st.mu.Unlock()
		return 0, 0, err
	}
	lb := j.sideBatch()
	lb.side = append(lb.side, p.buf...)
	t, arm := st.gen, !st.armed
	st.armed = true
	st.mu.Unlock()
	if arm {
		j.sweep.Reset(sweepAfter)
	}
	return t, p.seq, nil
}

// StageDone closes the in-flight record seq without an entry: the request
// did not go out after all.
func (j *Journal) StageDone(seq uint32) {
	st := &j.st
	st.mu.Lock()
	if j.roomLocked() == nil {
		lb := j.sideBatch()
		lb.side = appendClose(lb.side, j.run, seq)
	}
	st.mu.Unlock()
}

// sideBatch is the batch a side record joins; a batch of side records
// only is named by the next entry id, as its segment would be. j.st.mu
// held.
func (j *Journal) sideBatch() *logBatch {
	lb := j.st.cur
	if lb.n == 0 {
		lb.first = j.st.nextID
	}
	return lb
}

// roomLocked waits until the current batch has room (as stageItem does).
// j.st.mu held.
func (j *Journal) roomLocked() error {
	s := &j.st
	for {
		if s.closed || j.readOnly() {
			return j.unwritable()
		}
		if s.cur.n < j.opt.BatchMax {
			return nil
		}
		if !s.writing {
			j.lead()
		} else {
			s.cond.Wait()
		}
	}
}

func appendSent(dst []byte, run uint64, seq uint32, s *Sent, ss *sentSealer, aad *sentAAD) []byte {
	start := len(dst)
	dst, at := appendSentAt(dst, run, seq, s, ss, aad)
	putUvarint5(dst[at:], s.LinkSTAN)
	return seal(dst, start)
}

// appendSentAt appends the sent record of s, its header and its link
// STAN left to fill in (at: where the STAN goes), so that the record can
// be made before the STAN is drawn (PrepareSent). The STAN takes a
// uvarint of stanWidth bytes, padded with continuation bits as any
// uvarint reader accepts (binary.Uvarint does), so the record reads as
// before.
func appendSentAt(dst []byte, run uint64, seq uint32, s *Sent, ss *sentSealer, aad *sentAAD) ([]byte, int) {
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, recKindSent)
	dst = binary.AppendUvarint(dst, run)
	dst = binary.AppendUvarint(dst, uint64(seq))
	dst = binary.AppendVarint(dst, s.Time.UnixNano())
	dst = appendText(dst, s.Issuer)
	at := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0)
	dst = appendText(dst, s.MTI)
	for _, f := range s.Fields {
		dst = appendText(dst, f)
	}
	return ss.appendSealed(dst, s.PAN, run, seq, aad), at
}

// stanWidth is the link STAN's fixed width in a sent record: a uint32
// in 7-bit groups.
const stanWidth = 5

// putUvarint5 writes v as a uvarint of exactly stanWidth bytes.
func putUvarint5(b []byte, v uint32) {
	for i := range stanWidth - 1 {
		b[i] = byte(v) | 0x80
		v >>= 7
	}
	b[stanWidth-1] = byte(v)
}

func appendClose(dst []byte, run uint64, seq uint32) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, recKindClose)
	dst = binary.AppendUvarint(dst, run)
	dst = binary.AppendUvarint(dst, uint64(seq))
	return seal(dst, start)
}

// decodeSide decodes a side record's payload (p[0] is its kind) into r.
func decodeSide(p []byte, r *record) error {
	d := decoder{b: p[1:]}
	r.kind = p[0]
	r.side.run = d.uvarint()
	r.side.seq = d.uvarint()
	if r.kind == recKindSent {
		r.time = d.varint()
		r.sent = d.b // decoded in full by sentOf, only at Open
		d.b = nil
	}
	if d.bad || len(d.b) != 0 {
		return errBadRecord
	}
	return nil
}

// sentOf decodes the rest of a sent record (r.sent), copying its bytes,
// and opens its PAN with keys (panErr: it does not open; Sent.PAN is nil).
func sentOf(r *record, keys *sealer) (s Sent, ok bool, panErr error) {
	d := decoder{b: r.sent}
	s = Sent{Time: fromNanos(r.time)}
	s.Issuer = string(d.bytes())
	s.LinkSTAN = uint32(d.uvarint()) // #nosec G115 -- written from a uint32
	s.MTI = append([]byte(nil), d.bytes()...)
	for i := range s.Fields {
		if b := d.bytes(); len(b) > 0 {
			s.Fields[i] = append([]byte(nil), b...)
		}
	}
	sealed := d.bytes()
	if d.bad || len(d.b) != 0 {
		return s, false, nil
	}
	if len(sealed) > 0 {
		s.PAN, panErr = keys.openSent(sealed, r.side.run, r.side.seq)
	}
	return s, true, panErr
}

// inFlight collects, segment after segment at Open, where the sent
// records not closed are. Only their positions are kept, and a record
// is closed soon after it is sent, so the map holds about as many as
// were in flight at a time, however long the log: the records
// themselves are read again (unfinished) for the few left open.
type inFlight struct {
	open  map[sentKey]sentPos
	bad   int
	noPAN int // records whose PAN does not open (its key gone, or damaged)
}

// sentPos is where a sent record is: segment (index in the list Open
// read) and offset.
type sentPos struct{ seg, off int }

// add takes the side record r, at off in segment seg.
func (f *inFlight) add(r *record, seg, off int) {
	k := sentKey{r.side.run, r.side.seq}
	switch r.kind {
	case recKindSent:
		if f.open == nil {
			f.open = map[sentKey]sentPos{}
		}
		f.open[k] = sentPos{seg, off}
	case recKindClose:
		delete(f.open, k)
	}
}

// scan takes the side records of b, the checked prefix of segment seg.
func (f *inFlight) scan(b []byte, seg int) {
	off := 0
	_ = eachRecord(b, func(r *record) bool {
		if r.kind != recKindV1 {
			f.add(r, seg, off)
		}
		off += len(r.raw)
		return true
	})
}

// unfinished reads the open records back from segs, in the order they
// were sent.
func (f *inFlight) unfinished(segs []string, keys *sealer) ([]Sent, error) {
	pos := make([]sentPos, 0, len(f.open))
	for _, p := range f.open {
		pos = append(pos, p)
	}
	slices.SortFunc(pos, func(a, b sentPos) int { return cmp.Or(cmp.Compare(a.seg, b.seg), cmp.Compare(a.off, b.off)) })
	var out []Sent
	var b []byte
	for i, p := range pos {
		if i == 0 || pos[i-1].seg != p.seg {
			var err error
			if b, err = os.ReadFile(segs[p.seg]); err != nil { // #nosec G304 -- our own log directory
				return nil, fmt.Errorf("journal: read log segment: %w", err)
			}
		}
		var r record
		if n, err := nextRecord(b[p.off:], &r); err != nil || n == 0 || r.kind != recKindSent {
			f.bad++
			continue
		}
		s, ok, panErr := sentOf(&r, keys)
		if !ok {
			f.bad++
			continue
		}
		if panErr != nil {
			f.noPAN++
		}
		out = append(out, s)
	}
	return out, nil
}

// reverseUnfinished stores the reversal Options.Reverse makes of each
// request a previous run sent and never finished, before Open removes
// the log that records them. One already stored (by an Open that died
// before it removed the log) is not stored again.
func (j *Journal) reverseUnfinished(fl *inFlight, segs []string) error {
	list, err := fl.unfinished(segs, j.seal)
	if err != nil {
		return err
	}
	if fl.bad > 0 {
		j.opt.Log.Error("journal: in-flight records that do not decode: those requests are not reversed",
			"records", fl.bad)
	}
	if fl.noPAN > 0 {
		j.opt.Log.Error("journal: in-flight records whose PAN does not decrypt (its key is not configured, or "+
			"the record is damaged): those requests are reversed without field 2", "records", fl.noPAN)
	}
	if len(list) == 0 {
		return nil
	}
	if j.opt.Reverse == nil {
		j.opt.Log.Error("journal: requests in flight when the previous run stopped were not reversed "+
			"(no Options.Reverse): reverse them manually", "requests", len(list))
		return nil
	}
	var rs []*Reversal
	for i := range list {
		s := &list[i]
		rv, err := j.opt.Reverse(s)
		if err != nil {
			j.opt.Log.Error("REVERSAL NOT STORED for a request in flight at the last stop: reverse manually",
				"issuer", s.Issuer, "stan", string(s.Field(11)), "rrn", string(s.Field(37)), "err", err)
			continue
		}
		if dup, err := j.reversalStored(rv); err != nil {
			return err
		} else if !dup {
			rs = append(rs, rv)
		}
	}
	if err := j.AddReversals(context.Background(), rs); err != nil {
		return fmt.Errorf("journal: reversals of the requests in flight at the last stop: %w", err)
	}
	j.opt.Log.Warn("journal: requests in flight when the previous run stopped are reversed (0420 stored)",
		"requests", len(list), "stored", len(rs))
	return nil
}

// reversalStored reports whether a reversal of the same request is
// stored already: same issuer, STAN and RRN, created since the request
// arrived (rv.Created). That is the one an earlier start stored, or the
// timeout's, when the process died between storing it and writing the
// request's entry.
func (j *Journal) reversalStored(rv *Reversal) (bool, error) {
	var n int
	err := j.wdb.QueryRowContext(context.Background(), `SELECT count(*) FROM reversals
		WHERE issuer = ? AND stan = ? AND rrn = ? AND created >= ?`, rv.Issuer, rv.STAN, rv.RRN,
		rv.Created.UnixNano()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("journal: reversals of the requests in flight at the last stop: %w", err)
	}
	return n > 0, nil
}
