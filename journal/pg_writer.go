package journal

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgStepClaims names write's claims statement, whose result is read.
const pgStepClaims = "duplicate claims and in-flight records"

// pgWriteTimeout bounds one group write: past it the write goes to the
// spool, and its answers out. Short, as those answers wait for it.
const pgWriteTimeout = 5 * time.Second

// Append stages e; w, if not nil, is told once its transaction committed
// (e.ID set) or failed. A PAN with more than 10 digits is refused.
func (p *PG) Append(e *Entry, w Waiter) {
	err := checkEntry(e)
	if err == nil {
		r := rowOfEntry(p.opt.Node, e)
		_, err = p.stage(&r, e, w, 0)
	}
	if err != nil {
		if w != nil {
			w.Journaled(e, err)
		}
		return
	}
	p.nudge()
}

// StageFields stages f (copied) and returns its ticket.
func (p *PG) StageFields(f *Fields) (Ticket, error) {
	if err := checkFields(f); err != nil {
		return 0, err
	}
	r := rowOfFields(p.opt.Node, f)
	return p.stage(&r, nil, nil, f.Closes)
}

// stage adds r (with e's waiter, and the close of the in-flight record
// closes unless 0) to the next write.
func (p *PG) stage(r *pgEntryRow, e *Entry, w Waiter, closes uint32) (Ticket, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.writableLocked(); err != nil {
		return 0, err
	}
	b := p.cur
	if e != nil || w != nil {
		b.waiters = append(b.waiters, pgWaiter{row: b.ents.len(), e: e, w: w})
	}
	b.ents.add(r)
	if closes != 0 {
		b.closes = append(b.closes, int64(closes))
	}
	p.lag.Add(1)
	return p.gen, nil
}

// StageSent stages the in-flight record of s (its PAN sealed, as the
// log's) with the next write and returns its ticket and seq.
func (p *PG) StageSent(s *Sent) (Ticket, uint32, error) {
	if len(s.Issuer)+len(s.MTI)+len(s.PAN) > 1024 {
		return 0, 0, fmt.Errorf("journal: in-flight record refused: issuer, MTI or PAN too long")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.writableLocked(); err != nil {
		return 0, 0, err
	}
	p.sentSeq++
	if p.sentSeq == 0 {
		p.sentSeq = 1
	}
	seq := p.sentSeq
	rec := appendSent(nil, p.run, seq, s, p.sentSeal, &p.sentAAD)
	p.cur.sent = append(p.cur.sent, pgSent{seq: int64(seq), rec: rec})
	if len(s.Claim) > 0 {
		p.cur.claims = append(p.cur.claims, pgClaim{seq: int64(seq), at: s.Time.UnixNano(), link: int64(s.LinkSTAN),
			key: s.Claim})
	}
	return p.gen, seq, nil
}

// StageDone closes the in-flight record seq without an entry, and
// releases its duplicate claim: the request did not go out.
func (p *PG) StageDone(seq uint32) {
	p.mu.Lock()
	if p.writableLocked() == nil {
		p.cur.closes = append(p.cur.closes, int64(seq))
		p.cur.release = append(p.cur.release, int64(seq))
	}
	p.mu.Unlock()
	p.nudge()
}

func (p *PG) nudge() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Commit returns once every ticket up to t is written (or its write
// failed); when no write is under way the caller writes.
func (p *PG) Commit(t Ticket) {
	p.mu.Lock()
	for p.written < t {
		if p.writing {
			p.cond.Wait()
		} else {
			p.lead(false)
		}
	}
	p.mu.Unlock()
}

// Flush writes everything staged so far.
func (p *PG) Flush(ctx context.Context) error {
	p.mu.Lock()
	t := p.gen
	p.mu.Unlock()
	p.Commit(t)
	return ctx.Err()
}

// lead takes the staged batch and writes it; p.mu is held on entry and
// on return, released in between. With replay (the committer's) it then
// replays the spool if the database is back, still the writer (later
// writes wait) but with this batch told.
func (p *PG) lead(replay bool) {
	p.writing = true
	b, t := p.cur, p.gen
	p.cur, p.gen, p.spare = p.spare, t+1, nil
	if p.cur == nil {
		p.cur = &pgBatch{}
	}
	p.mu.Unlock()
	lost, spooled, err := p.writeOrSpool(b)
	p.lag.Add(-int64(b.ents.len()))
	if err != nil {
		p.opt.Log.Error("journal.postgres: write failed: these entries are lost", "entries", b.ents.len(),
			"err", err)
		if p.opt.WriteFailed != nil && b.ents.len() > 0 {
			p.opt.WriteFailed(b.ents.len())
		}
	}
	for _, w := range b.waiters {
		if err != nil {
			w.e.ID = 0
		}
		if w.w != nil {
			w.w.Journaled(w.e, err)
		}
	}
	p.mu.Lock()
	claimErr := err
	if spooled && claimErr == nil {
		claimErr = ErrClaimUnknown // the database decided none of b's claims
	}
	p.claimLosers(b, lost, claimErr)
	b.reset()
	p.spare = b // the next lead stages into it: its arrays are grown already
	p.written = t
	p.cond.Broadcast()
	if replay && spooled {
		p.mu.Unlock()
		p.replaySpool()
		p.mu.Lock()
	}
	p.writing = false
	p.cond.Broadcast()
}

// write stores b in one transaction, sent as one batch (one round trip
// but for an id block now and then: an answer waits for two writes in
// series, so each round trip counts twice): BEGIN; its duplicate claims
// with the in-flight records of the requests whose claims won (lost: the
// seqs of those not taken); its entries (ids given here, before the
// write: the spool's replay recognises a committed write by them); the
// deletes of the records it closes and of the claims it releases;
// COMMIT. A failing statement makes the server skip the rest of the
// batch, COMMIT included: nothing of b is written.
func (p *PG) write(b *pgBatch) (lost map[int64]bool, err error) {
	if b.ents.len() == 0 && len(b.sent) == 0 && len(b.closes) == 0 && len(b.release) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgWriteTimeout)
	defer cancel()
	if err := p.giveIDs(ctx, b); err != nil {
		return nil, err
	}
	var q pgx.Batch
	q.Queue("BEGIN")
	steps := []string{"begin"}
	if len(b.sent) > 0 || len(b.claims) > 0 {
		var args []any
		lost, args = p.claimArgs(b)
		q.Queue(pgClaimAndRecordSQL, args...)
		steps = append(steps, pgStepClaims)
	}
	if b.ents.len() > 0 {
		q.Queue(pgInsertEntriesSQL, b.ents.args()...)
		steps = append(steps, "entries")
	}
	if len(b.closes) > 0 {
		q.Queue(`DELETE FROM inflight WHERE node = $1 AND run = $2 AND seq = ANY($3)`,
			p.opt.Node, int64(p.run), b.closes) // #nosec G115 -- bits
		steps = append(steps, "closing in-flight records")
	}
	if len(b.release) > 0 {
		q.Queue(`DELETE FROM dupclaims WHERE node = $1 AND run = $2 AND seq = ANY($3)`,
			p.opt.Node, int64(p.run), b.release) // #nosec G115 -- bits
		steps = append(steps, "releasing duplicate claims")
	}
	q.Queue("COMMIT")
	steps = append(steps, "commit")
	if err := p.sendWrite(ctx, &q, steps, lost); err != nil {
		return nil, err
	}
	return lost, nil
}

// sendWrite sends q (write's statements, steps naming each) and reads
// its results in order; the claims statement's (second) returns the seqs
// that won, deleted from lost.
func (p *PG) sendWrite(ctx context.Context, q *pgx.Batch, steps []string, lost map[int64]bool) error {
	br := p.pool.SendBatch(ctx, q)
	defer func() { _ = br.Close() }()
	for i, step := range steps {
		if step != pgStepClaims {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("%s: %w", step, err)
			}
			continue
		}
		rows, _ := br.Query()
		won, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("%s: %w", steps[i], err)
		}
		for _, s := range won {
			delete(lost, s)
		}
	}
	// Close's error too: a COMMIT whose answer is lost is a failed write
	// (the spool's replay finds it if it committed after all).
	return br.Close()
}

// giveIDs sets the ids and write time of b's entries (and their Entry's
// ID), claiming a new block of ids when this one runs out.
func (p *PG) giveIDs(ctx context.Context, b *pgBatch) error {
	now := time.Now().UnixNano()
	for i := range b.ents.ids {
		if p.ids == p.idsEnd {
			first, err := claimIDs(ctx, p.pool, pgIDBlock)
			if err != nil {
				return err
			}
			p.ids, p.idsEnd = first, first+pgIDBlock
		}
		b.ents.ids[i], b.ents.written[i] = p.ids, now
		p.ids++
	}
	for _, w := range b.waiters {
		if w.e != nil {
			w.e.ID = b.ents.ids[w.row]
		}
	}
	return nil
}

// committer writes what nobody commits, sweepAfter after it was staged
// (or at once when Append nudges it), and replays the spool when the
// probe finds the database back.
func (p *PG) committer() {
	defer close(p.done)
	tick := time.NewTicker(sweepAfter)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.kick:
		case <-tick.C:
		}
		p.mu.Lock()
		pending := p.cur.ents.len()+len(p.cur.sent)+len(p.cur.closes)+len(p.cur.release) > 0
		t := p.gen
		if p.sp.back.Load() && p.sp.on.Load() { // a spool to replay: even with nothing staged
			for p.writing {
				p.cond.Wait()
			}
			p.lead(true)
			pending = false
		}
		p.mu.Unlock()
		if pending {
			p.Commit(t)
		}
	}
}

// Close writes what is staged, stops the committer and closes the pool.
func (p *PG) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true // nothing more is staged
	t := p.gen
	p.mu.Unlock()
	if !p.opt.ReadOnly {
		p.Commit(t)
		close(p.stop)
		<-p.done
		<-p.beating
		p.sp.mu.Lock()
		p.sp.closed = true
		if p.sp.f != nil {
			_ = p.sp.f.Close()
			p.sp.f = nil
		}
		p.sp.mu.Unlock()
		p.sp.probes.Wait()
	}
	p.pool.Close()
	return nil
}
