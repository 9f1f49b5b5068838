package journal

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgEntryCols are the entries table's columns as COPY writes them.
var pgEntryCols = []string{"id", "node", "written_ns", "time_ns", "conn", "latency_us", "acquirer", "remote",
	"issuer", "mti", "pcode", "amount", "currency", "stan", "rrn", "terminal", "tx_time", "pan", "code",
	"outcome", "reason", "acq_dialect", "iss_dialect"}

// pgEntryInt marks the entries columns that are BIGINT (the others are
// TEXT), in pgEntryCols' order: rowOfEntry and StageFields build rows so.
var pgEntryInt = func() []bool {
	isInt := make([]bool, len(pgEntryCols))
	for i, c := range pgEntryCols {
		switch c {
		case "id", "written_ns", "time_ns", "conn", "latency_us":
			isInt[i] = true
		}
	}
	return isInt
}()

// pgInsertEntriesSQL inserts a write's entries from one array per column:
// one statement whose text never changes (prepared once per connection),
// which unlike COPY can share the write's batch.
var pgInsertEntriesSQL = func() string {
	var sql strings.Builder
	fmt.Fprintf(&sql, "INSERT INTO entries (%s) SELECT * FROM unnest(", strings.Join(pgEntryCols, ", "))
	for i := range pgEntryCols {
		if i > 0 {
			sql.WriteString(", ")
		}
		typ := "text"
		if pgEntryInt[i] {
			typ = "bigint"
		}
		fmt.Fprintf(&sql, "$%d::%s[]", i+1, typ)
	}
	sql.WriteString(")")
	return sql.String()
}()

// pgStepClaims names write's claims statement, whose result is read.
const pgStepClaims = "duplicate claims and in-flight records"

// entryColumns is rows by column, pgInsertEntriesSQL's arguments.
func entryColumns(rows [][]any) []any {
	cols := make([]any, len(pgEntryCols))
	for c := range pgEntryCols {
		if pgEntryInt[c] {
			col := make([]int64, len(rows))
			for i, r := range rows {
				col[i] = r[c].(int64)
			}
			cols[c] = col
			continue
		}
		col := make([]string, len(rows))
		for i, r := range rows {
			col[i] = r[c].(string)
		}
		cols[c] = col
	}
	return cols
}

// pgWriteTimeout bounds one group write: past it the write goes to the
// spool, and its answers out. Short, as those answers wait for it.
const pgWriteTimeout = 5 * time.Second

// Append stages e; w, if not nil, is told once its transaction committed
// (e.ID set) or failed. A PAN with more than 10 digits is refused.
func (p *PG) Append(e *Entry, w Waiter) {
	err := checkEntry(e)
	if err == nil {
		_, err = p.stage(rowOfEntry(p.opt.Node, e), e, w)
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
	row := []any{int64(0), p.opt.Node, int64(0), f.Time.UnixNano(), int64(f.Conn), f.Latency.Microseconds(),
		f.Acquirer, f.Remote, f.Issuer, string(f.MTI), string(f.ProcessingCode), string(f.Amount),
		string(f.Currency), string(f.STAN), string(f.RRN), string(f.Terminal), string(f.TransmissionTime),
		string(f.PAN), f.ResponseCode, string(f.Outcome), f.Reason, f.AcquirerDialect, f.IssuerDialect}
	t, err := p.stage(row, nil, nil)
	if err == nil && f.Closes != 0 {
		p.mu.Lock()
		p.cur.closes = append(p.cur.closes, int64(f.Closes))
		p.mu.Unlock()
	}
	return t, err
}

func rowOfEntry(node string, e *Entry) []any {
	return []any{int64(0), node, int64(0), e.Time.UnixNano(), int64(e.Conn), e.Latency.Microseconds(),
		e.Acquirer, e.Remote, e.Issuer, e.MTI, e.ProcessingCode, e.Amount, e.Currency, e.STAN, e.RRN,
		e.Terminal, e.TransmissionTime, e.PAN, e.ResponseCode, string(e.Outcome), e.Reason,
		e.AcquirerDialect, e.IssuerDialect}
}

// stage adds row (with e's waiter) to the next write.
func (p *PG) stage(row []any, e *Entry, w Waiter) (Ticket, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.writableLocked(); err != nil {
		return 0, err
	}
	b := p.cur
	if e != nil || w != nil {
		b.waiters = append(b.waiters, pgWaiter{row: len(b.rows), e: e, w: w})
	}
	b.rows = append(b.rows, row)
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
	rec := appendSent(nil, p.run, seq, s, p.sentSeal)
	p.cur.sent = append(p.cur.sent, []any{p.opt.Node, int64(p.run), int64(seq), rec}) // #nosec G115 -- bits
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
			p.lead()
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
// on return, released in between.
func (p *PG) lead() {
	p.writing = true
	b, t := p.cur, p.gen
	p.cur, p.gen = &pgBatch{}, t+1
	p.mu.Unlock()
	lost, spooled, err := p.writeOrSpool(b)
	p.lag.Add(-int64(len(b.rows)))
	if err != nil {
		p.opt.Log.Error("journal.postgres: write failed: these entries are lost", "entries", len(b.rows),
			"err", err)
		if p.opt.WriteFailed != nil && len(b.rows) > 0 {
			p.opt.WriteFailed(len(b.rows))
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
	p.writing, p.written = false, t
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
	if len(b.rows) == 0 && len(b.sent) == 0 && len(b.closes) == 0 && len(b.release) == 0 {
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
	if len(b.rows) > 0 {
		q.Queue(pgInsertEntriesSQL, entryColumns(b.rows)...)
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
	for _, r := range b.rows {
		if p.ids == p.idsEnd {
			first, err := claimIDs(ctx, p.pool, pgIDBlock)
			if err != nil {
				return err
			}
			p.ids, p.idsEnd = first, first+pgIDBlock
		}
		r[0], r[2] = p.ids, now
		p.ids++
	}
	for _, w := range b.waiters {
		if w.e != nil {
			w.e.ID = b.rows[w.row][0].(int64)
		}
	}
	return nil
}

// committer writes what nobody commits, sweepAfter after it was staged
// (or at once when Append nudges it).
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
		pending := len(p.cur.rows)+len(p.cur.sent)+len(p.cur.closes)+len(p.cur.release) > 0
		t := p.gen
		p.mu.Unlock()
		if pending || (p.sp.back.Load() && p.sp.on.Load()) { // a spool to replay: even with nothing staged
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
