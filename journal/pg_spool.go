package journal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// The spool is what keeps a node on PostgreSQL answering, without losing
// an acknowledged answer, while the database is unreachable: a group
// write that fails goes to a local file instead (one line per write,
// fsynced before its waiters are told), and so does every write after it,
// in order, until the spool is replayed into the database. While spooling
// the writer does not try the database: a probe pings it every
// pgProbeEvery, and once it answers, the next write replays the spool and
// itself in one transaction. A spool found at open (the node stopped
// while spooling) is replayed before anything else.
//
// The first write spooled may have committed all the same (its COMMIT was
// sent, the answer lost): one transaction, so if any of its entries (ids
// given before the write) or in-flight records is in the database, all
// are, and the replay leaves them out. Writes after it never reached the
// database. A line is "crc32 hex, space, JSON"; a torn last line (the
// process died while writing it: nobody was told of it) is dropped.

// pgProbeEvery is how often a spooling node pings the database.
const pgProbeEvery = 500 * time.Millisecond

// spoolWrite is one group write as the spool keeps it.
type spoolWrite struct {
	Node   string      `json:"node"`
	Run    uint64      `json:"run"`
	Rows   []spoolRow  `json:"rows,omitempty"`
	Sent   []spoolSent `json:"sent,omitempty"`
	Closes []int64     `json:"closes,omitempty"`
	// Reversals are the reversals and advices stored while spooling,
	// their frames sealed (to id 0: the row's id is given at replay).
	Reversals []spoolReversal `json:"reversals,omitempty"`
}

type spoolReversal struct {
	Created   int64  `json:"created"`
	Issuer    string `json:"issuer"`
	EntryID   int64  `json:"entry_id"`
	STAN      string `json:"stan"`
	RRN       string `json:"rrn"`
	Sealed    []byte `json:"sealed"`
	Attempts  int    `json:"attempts"`
	Next      int64  `json:"next"`
	LastError string `json:"last_error"`
	Kind      string `json:"kind"`
}

// spoolRow is an entry's row: T gives each column's type in order (i:
// int64 from I, s: string from S).
type spoolRow struct {
	T string   `json:"t"`
	I []int64  `json:"i"`
	S []string `json:"s"`
}

type spoolSent struct {
	Run    int64  `json:"run"`
	Seq    int64  `json:"seq"`
	Record []byte `json:"rec"` // the PAN in it sealed, as in the database
}

func toSpoolRow(r []any) (spoolRow, error) {
	var out spoolRow
	t := make([]byte, 0, len(r))
	for i, v := range r {
		switch v := v.(type) {
		case int64:
			t, out.I = append(t, 'i'), append(out.I, v)
		case string:
			t, out.S = append(t, 's'), append(out.S, v)
		default:
			return out, fmt.Errorf("journal spool: entry column %s is a %T", pgEntryCols[i], v)
		}
	}
	out.T = string(t)
	return out, nil
}

func (s spoolRow) row() ([]any, error) {
	r := make([]any, 0, len(s.T))
	var i, j int
	for _, c := range []byte(s.T) {
		switch {
		case c == 'i' && i < len(s.I):
			r, i = append(r, s.I[i]), i+1
		case c == 's' && j < len(s.S):
			r, j = append(r, s.S[j]), j+1
		default:
			return nil, errors.New("journal spool: a row does not match its types")
		}
	}
	if len(r) != len(pgEntryCols) {
		return nil, fmt.Errorf("journal spool: a row of %d columns, want %d", len(r), len(pgEntryCols))
	}
	return r, nil
}

// spoolLine encodes b as a spool line: its CRC-32 in hex, a space, its
// JSON, a newline.
func (p *PG) spoolLine(b *pgBatch) ([]byte, error) {
	w := spoolWrite{Node: p.opt.Node, Run: p.run, Closes: b.closes}
	now := time.Now().UnixNano()
	for i := range b.ents.len() {
		if b.ents.written[i] == 0 {
			b.ents.written[i] = now // when the node wrote it down
		}
		sr, err := toSpoolRow(b.ents.row(i))
		if err != nil {
			return nil, err
		}
		w.Rows = append(w.Rows, sr)
	}
	for _, s := range b.sent {
		w.Sent = append(w.Sent, spoolSent{Run: int64(p.run), Seq: s.seq, Record: s.rec}) // #nosec G115 -- bits
	}
	return encodeSpoolLine(w)
}

func encodeSpoolLine(w spoolWrite) ([]byte, error) {
	js, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	line := fmt.Appendf(make([]byte, 0, len(js)+10), "%08x ", crc32.ChecksumIEEE(js))
	return append(append(line, js...), '\n'), nil
}

// spoolAppend adds b to the spool, fsynced, and turns spooling on. An
// empty b adds nothing.
func (p *PG) spoolAppend(b *pgBatch) error {
	if b.ents.len() == 0 && len(b.sent) == 0 && len(b.closes) == 0 {
		return nil
	}
	line, err := p.spoolLine(b)
	if err != nil {
		return err
	}
	return p.spoolAppendLine(line)
}

// spoolAppendLine appends line to the spool, fsynced, and turns spooling
// on.
func (p *PG) spoolAppendLine(line []byte) error {
	p.sp.mu.Lock()
	defer p.sp.mu.Unlock()
	var err error
	if p.sp.f == nil {
		if p.sp.f, err = openSpool(p.opt.Spool); err != nil {
			return err
		}
	}
	if _, err := p.sp.f.Write(line); err != nil {
		return fmt.Errorf("journal.spool %s: %w", p.opt.Spool, err)
	}
	if err := p.sp.f.Sync(); err != nil {
		return fmt.Errorf("journal.spool %s: %w", p.opt.Spool, err)
	}
	p.sp.on.Store(true)
	return nil
}

// openSpool opens path for appending, creating it (and syncing its folder,
// so that the new file survives a power loss) when missing.
func openSpool(path string) (*os.File, error) {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600) // #nosec G304 -- journal.spool
	if err != nil {
		return nil, fmt.Errorf("journal.spool %s: %w", path, err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		if d, err := os.Open(filepath.Dir(path)); err == nil { // #nosec G304 -- its folder
			_ = d.Sync()
			_ = d.Close()
		}
	}
	return f, nil
}

// readSpool returns the writes in path (none when it is missing). A torn
// last line is dropped; damage anywhere else is an error naming the line.
func readSpool(path string, log func(msg string, args ...any)) ([]spoolWrite, error) {
	data, err := os.ReadFile(path) // #nosec G304 -- journal.spool
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal.spool %s: %w", path, err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	var out []spoolWrite
	for i, l := range lines {
		if len(l) == 0 {
			continue
		}
		w, err := decodeSpoolLine(l)
		if err != nil && i == len(lines)-1 {
			log("journal.spool: a torn last line dropped (the node stopped while writing it; nobody was told of it)",
				"spool", path, "bytes", len(l))
			break
		}
		if err != nil {
			return nil, fmt.Errorf("journal.spool %s: line %d: %w", path, i+1, err)
		}
		out = append(out, w)
	}
	return out, nil
}

func decodeSpoolLine(l []byte) (spoolWrite, error) {
	var w spoolWrite
	if len(l) < 10 || l[8] != ' ' || l[len(l)-1] != '\n' {
		return w, errors.New("not a spool line")
	}
	var sum uint32
	if _, err := fmt.Sscanf(string(l[:8]), "%08x", &sum); err != nil {
		return w, errors.New("not a spool line")
	}
	js := l[9 : len(l)-1]
	if crc32.ChecksumIEEE(js) != sum {
		return w, errors.New("checksum mismatch")
	}
	return w, json.Unmarshal(js, &w)
}

// drainSpool replays the spool into the database in one transaction and
// removes it; it returns how many entries it replayed. Entries spooled
// without an id get theirs first, and the spool is rewritten with them,
// so that a replay that committed and died before removing the file is
// recognised by the next one (a write whose first entry, or else first
// in-flight record, is in the database is left out).
func (p *PG) drainSpool(ctx context.Context) (int, error) {
	if p.opt.Spool == "" {
		return 0, nil
	}
	p.sp.mu.Lock()
	defer p.sp.mu.Unlock()
	ws, err := readSpool(p.opt.Spool, p.opt.Log.Warn)
	if err != nil {
		return 0, err
	}
	if len(ws) == 0 {
		return 0, p.spoolDone()
	}
	if err := p.spoolIDs(ctx, ws); err != nil {
		return 0, err
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	n, err := replaySpool(ctx, tx, ws)
	if err == nil {
		err = p.replayReversals(ctx, tx, ws)
	}
	if err != nil {
		return 0, fmt.Errorf("journal.spool %s: replay: %w", p.opt.Spool, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	return n, p.spoolDone()
}

// spoolDone removes the spool (replayed, or holding nothing) and turns
// spooling off (p.sp.mu held).
func (p *PG) spoolDone() error {
	if p.sp.f != nil {
		_ = p.sp.f.Close()
		p.sp.f = nil
	}
	if err := os.Remove(p.opt.Spool); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("journal.spool %s: replayed, but: %w", p.opt.Spool, err)
	}
	p.sp.on.Store(false)
	return nil
}

// spoolIDs gives the spooled entries without an id theirs (a block
// claimed for them) and rewrites the spool with them.
func (p *PG) spoolIDs(ctx context.Context, ws []spoolWrite) error {
	var missing []*int64
	for i := range ws {
		for j := range ws[i].Rows {
			if r := &ws[i].Rows[j]; len(r.I) > 0 && r.I[0] == 0 {
				missing = append(missing, &r.I[0])
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	first, err := claimIDs(ctx, p.pool, int64(len(missing)))
	if err != nil {
		return err
	}
	for i, id := range missing {
		*id = first + int64(i)
	}
	var buf bytes.Buffer
	for _, w := range ws {
		line, err := encodeSpoolLine(w)
		if err != nil {
			return err
		}
		buf.Write(line)
	}
	if err := rewriteFile(p.opt.Spool, buf.Bytes()); err != nil {
		return err
	}
	if p.sp.f != nil { // the replaced file's: the next append opens the new one
		_ = p.sp.f.Close()
		p.sp.f = nil
	}
	return nil
}

// rewriteFile replaces path with data: a new file, fsynced, renamed over.
func rewriteFile(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // #nosec G304 -- journal.spool
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	return err
}

// replaySpool writes ws with tx: the entries and in-flight records of the
// writes not in the database yet, then every write's closes.
func replaySpool(ctx context.Context, tx pgx.Tx, ws []spoolWrite) (int, error) {
	var rows, sent [][]any
	closes := map[[2]string][]int64{} // node, run -> seqs
	for _, w := range ws {
		in, err := spoolWriteIn(ctx, tx, w)
		if err != nil {
			return 0, err
		}
		for _, r := range w.Rows {
			row, err := r.row()
			if err != nil {
				return 0, err
			}
			if !in {
				rows = append(rows, row)
			}
		}
		for _, s := range w.Sent {
			if !in {
				sent = append(sent, []any{w.Node, s.Run, s.Seq, s.Record})
			}
		}
		k := [2]string{w.Node, fmt.Sprint(int64(w.Run))} // #nosec G115 -- bits
		closes[k] = append(closes[k], w.Closes...)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"entries"}, pgEntryCols, pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("entries: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"inflight"}, []string{"node", "run", "seq", "record"},
		pgx.CopyFromRows(sent)); err != nil {
		return 0, fmt.Errorf("in-flight records: %w", err)
	}
	for k, seqs := range closes {
		if _, err := tx.Exec(ctx, `DELETE FROM inflight WHERE node = $1 AND run = $2::BIGINT AND seq = ANY($3)`,
			k[0], k[1], seqs); err != nil {
			return 0, fmt.Errorf("closing in-flight records: %w", err)
		}
	}
	return len(rows), nil
}

// spoolWriteIn reports whether w is in the database already: its first
// entry, or else its first in-flight record (a write is one transaction).
func spoolWriteIn(ctx context.Context, tx pgx.Tx, w spoolWrite) (bool, error) {
	var n int
	var err error
	switch {
	case len(w.Rows) > 0 && len(w.Rows[0].I) > 0:
		err = tx.QueryRow(ctx, `SELECT count(*) FROM entries WHERE id = $1`, w.Rows[0].I[0]).Scan(&n)
	case len(w.Sent) > 0:
		err = tx.QueryRow(ctx, `SELECT count(*) FROM inflight WHERE node = $1 AND run = $2 AND seq = $3`,
			w.Node, w.Sent[0].Run, w.Sent[0].Seq).Scan(&n)
	}
	return n > 0, err
}

// pgSpoolState is the spool's state: mu guards f, the appends and the
// replay (the writer's, and AddReversals'); on, back and probing are read
// without it.
type pgSpoolState struct {
	mu      sync.Mutex
	closed  bool        // no more probes: Close waits for the last
	f       *os.File    // open while writes go to the spool
	on      atomic.Bool // writes go to the spool
	back    atomic.Bool // the probe reached the database
	probing atomic.Bool
	probes  sync.WaitGroup
}

// writeOrSpool writes b to the database, or to the spool when it is
// unreachable or the spool holds writes not replayed yet (they come
// first); it then replays the spool once the probe reached the database.
// lost: the claims another node holds (a write to the database); spooled:
// b went to the spool, none of its claims decided. A spooled release of
// a claim is not kept: that key stays claimed until the window ends.
func (p *PG) writeOrSpool(b *pgBatch) (lost map[int64]bool, spooled bool, err error) {
	if p.opt.Spool == "" {
		lost, err = p.write(b)
		return lost, false, err
	}
	if !p.sp.on.Load() {
		lost, err := p.write(b)
		if err == nil {
			return lost, false, nil
		}
		p.opt.Log.Error("journal.postgres: database unreachable: writes go to the local spool until it is back; "+
			"answers still go out", "spool", p.opt.Spool, "err", err)
		// The pool's connections are likely dead (a restarted server):
		// the probe and the replay then start from new ones.
		p.pool.Reset()
		p.probe()
	}
	// Without the database no claim is decided: those requests do not go
	// out (ErrClaimUnknown), so their in-flight records are not kept.
	b.sent = keepWon(b.sent, claimSeqs(b))
	if err := p.spoolAppend(b); err != nil {
		return nil, true, err
	}
	return nil, true, nil
}

// replaySpool replays the spool once the probe found the database back.
// Only the committer does (lead), after its write's waiters and claims
// are told: a replay can take long, and a request's gate (Commit) must not
// wait for it with a result it already has, or the request times out
// there and gets a reversal though it is never sent.
func (p *PG) replaySpool() {
	if !p.sp.back.Swap(false) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgWriteTimeout)
	n, err := p.drainSpool(ctx)
	cancel()
	if err != nil {
		p.opt.Log.Error("journal.postgres: spool replay failed: writes still go to the spool", "err", err)
		p.probe()
		return
	}
	p.opt.Log.Warn("journal.postgres: database reachable again: spool replayed", "entries", n)
}

// claimSeqs is the seqs of b's duplicate claims.
func claimSeqs(b *pgBatch) map[int64]bool {
	seqs := make(map[int64]bool, len(b.claims))
	for _, c := range b.claims {
		seqs[c.seq] = true
	}
	return seqs
}

// probe starts pinging the database every pgProbeEvery (unless it does
// already) until it answers or the journal closes; then the committer
// replays the spool.
func (p *PG) probe() {
	p.sp.mu.Lock()
	defer p.sp.mu.Unlock()
	if p.sp.closed || !p.sp.probing.CompareAndSwap(false, true) {
		return
	}
	p.sp.probes.Add(1)
	go func() {
		defer p.sp.probes.Done()
		reached := false
		p.every(pgProbeEvery, func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), pgProbeEvery)
			defer cancel()
			reached = p.pool.Ping(ctx) == nil
			return reached
		})
		// Not probing before back is set: a replay that fails at once
		// must be able to start the next probe.
		p.sp.probing.Store(false)
		if reached {
			p.sp.back.Store(true)
			p.nudge()
		}
	}()
}

// spoolReversals keeps rs in the spool (AddReversals while the database
// is unreachable): durable when it returns, delivered once replayed.
func (p *PG) spoolReversals(rs []*Reversal) error {
	w := spoolWrite{Node: p.opt.Node, Run: p.run}
	now := time.Now()
	for _, r := range rs {
		if r.Created.IsZero() {
			r.Created = now
		}
		if r.NextAttempt.IsZero() {
			r.NextAttempt = r.Created
		}
		_, sealed, err := p.seal.seal(r.Frame, 0, r.Created.UnixNano(), r.Issuer)
		if err != nil {
			return err
		}
		w.Reversals = append(w.Reversals, spoolReversal{Created: r.Created.UnixNano(), Issuer: r.Issuer,
			EntryID: r.EntryID, STAN: r.STAN, RRN: r.RRN, Sealed: sealed, Attempts: r.Attempts,
			Next: r.NextAttempt.UnixNano(), LastError: r.LastError, Kind: r.Kind})
	}
	line, err := encodeSpoolLine(w)
	if err != nil {
		return err
	}
	if err := p.spoolAppendLine(line); err != nil {
		return err
	}
	p.probe()
	return nil
}

// replayReversals stores the spooled reversals with tx, each resealed to
// its row; one already stored (same issuer, STAN, RRN and creation time:
// a replay that committed and stopped before removing the spool) is not
// stored again.
func (p *PG) replayReversals(ctx context.Context, tx pgx.Tx, ws []spoolWrite) error {
	var rs []*Reversal
	for _, w := range ws {
		for _, s := range w.Reversals {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM reversals WHERE issuer = $1 AND stan = $2 AND rrn = $3
				AND created = $4`, s.Issuer, s.STAN, s.RRN, s.Created).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			frame, err := p.seal.open(s.Sealed, 0, s.Created, s.Issuer)
			if err != nil {
				return fmt.Errorf("a spooled reversal (issuer %s, stan %s): %w", s.Issuer, s.STAN, err)
			}
			rs = append(rs, &Reversal{Created: time.Unix(0, s.Created), Issuer: s.Issuer, EntryID: s.EntryID,
				STAN: s.STAN, RRN: s.RRN, Frame: frame, Attempts: s.Attempts, NextAttempt: time.Unix(0, s.Next),
				LastError: s.LastError, Kind: s.Kind})
		}
	}
	if err := p.addReversals(ctx, tx, rs); err != nil {
		return fmt.Errorf("reversals: %w", err)
	}
	return nil
}

// checkSpool makes sure the spool can be written (its folder made, a file
// created there and removed): a bad journal.spool is refused at start,
// not found out when the database is down.
func checkSpool(path string) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("journal.spool %s: %w", path, err)
	}
	f, err := os.OpenFile(path+".check", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // #nosec G304 -- journal.spool
	if err != nil {
		return fmt.Errorf("journal.spool %s: cannot write there: %w", path, err)
	}
	_ = f.Close()
	return os.Remove(path + ".check")
}
