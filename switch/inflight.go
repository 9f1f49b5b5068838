package switchd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/cardswitch/cardswitch/switch/issuer"
	"github.com/moov-io/iso8583"
)

// Nothing in flight is lost: before a request is written to an issuer
// link it is recorded in the journal's log (Record), and the link's
// writer commits that record, with every other record of its batch in
// one log write, before it sends the batch (linkGate), as an acquirer's
// writer commits answers' entries. The request's journal entry closes
// the record (finish: Fields.Closes). A request still open when the
// process died (kill -9, OOM, power) may have been approved by its
// issuer, with no acquirer told: at the next start the journal hands it
// to reverseUnfinished, and its 0420 is stored and sent like a timeout's.
//
// Reversals (04xx) and advices (0120, 0220, 0420 ...) are not recorded:
// they are never reversed. A failed advice is stored and forwarded, and an
// acquirer repeats one it got no answer to.

// Record notes the link STAN the issuer will see in r's duplicate slot (a
// reversal of r names it: request.go, original), and stages r's in-flight
// record (issuer.Recorder); the link's writer commits its ticket before the
// request goes out. A record the journal refuses is logged and counted,
// and the request still goes out, as an answer does. On PostgreSQL the
// record also claims r's duplicate key across nodes (claimed: the link
// asks Claimed before it sends r; journal/pg_claims.go).
func (r *request) Record(_ *issuer.Txn, linkSTAN uint32) (ticket uint64, claimed bool) {
	c := r.c
	if c.sendingKey != 0 {
		// Noted before the request goes out, so before its acquirer can
		// hear its answer and reverse it.
		c.s.dups.sent(c.sendingKey, linkSTAN)
	}
	j, v := c.s.jrnl, c.sending
	if !recorded(j, v, r) {
		return 0, false
	}
	var tk journal.Ticket
	var seq uint32
	var err error
	var sent journal.Sent
	if sj, ok := j.(*journal.Journal); ok && c.prepared {
		c.prepared = false // a second link (failover) records afresh
		tk, seq, err = sj.StagePrepared(&c.prep, linkSTAN)
	} else {
		r.sentOf(&sent, v, linkSTAN)
		tk, seq, err = stageSent(j, &sent)
	}
	if err != nil {
		c.s.log.Error("journal: in-flight record refused: should the switch die before this request is answered, "+
			"it is not reversed", "conn", c.id, "issuer", r.Issuer, "err", err)
		return 0, false
	}
	r.Recorded = seq
	return uint64(tk), sent.Claim != nil
}

// recorded: r, scanned into v, gets an in-flight record in journal j.
// Reversals (04xx) and advices are never reversed, so they get none.
func recorded(j journal.Store, v *iso.View, r *request) bool {
	return j != nil && v != nil && r.MTI[1] != '4' && !isAdvice(r.MTI[:])
}

// sentOf fills the in-flight record of r, scanned into v.
func (r *request) sentOf(sent *journal.Sent, v *iso.View, linkSTAN uint32) {
	c := r.c
	*sent = journal.Sent{Time: r.Started, Issuer: r.Issuer, LinkSTAN: linkSTAN, MTI: r.MTI[:]}
	fillSent(sent, v)
	sent.PAN, _ = iso.RoutingPAN(v) // sealed by the journal: the 0420's field 2, as setPAN takes it
	if c.sendingKey != 0 && c.s.claims != nil {
		sent.Claim = journal.AppendClaimKey(nil, c.acquirer, v.MTI()[:3], v.Field(11), v.Field(41), v.Field(37),
			v.Field(7))
	}
}

// prepareSent makes r's in-flight record, all but its link STAN, before
// the link's lock is taken (journal.PreparedSent): on the SQLite journal
// only (PostgreSQL's record carries a claim, made in its own stage).
func (c *acqConn) prepareSent(r *request, v *iso.View) {
	sj, ok := c.s.jrnl.(*journal.Journal)
	if !ok || !recorded(c.s.jrnl, v, r) {
		return
	}
	var sent journal.Sent
	r.sentOf(&sent, v, 0)
	c.prepared = sj.PrepareSent(&c.prep, &sent) == nil // refused: Record tries again and logs why
}

// Claimed is the journal's decision on r's duplicate claim (Record): nil
// when r may go out, journal.ErrClaimed when another node (or an earlier
// request) holds its key, journal.ErrClaimUnknown when the write failed.
// The link fails r with it, unsent (Fail).
func (r *request) Claimed(_ *issuer.Txn) error {
	if r.c.s.claims == nil {
		return nil
	}
	return r.c.s.claims.ClaimResult(r.Recorded)
}

// claimer is the journal that decides duplicates across nodes
// (*journal.PG); nil on SQLite, where the node's own window decides.
type claimer interface {
	ClaimResult(seq uint32) error
	SetDupWindow(d time.Duration)
	ClaimedLink(ctx context.Context, key []byte, since time.Time) (linkSTAN uint32, found bool, err error)
}

// fillSent copies the request's SentFields into s. screened checked the
// fields the entry's columns hold; any other one that a misaligned frame
// fills with card digits or a track separator is left out (its 0420 goes
// without it): the log is in clear, and holds no card data.
func fillSent(s *journal.Sent, v *iso.View) {
	frame, tracks := v.Frame(), v.Frame()
	if !iso.HasTrackSeparator(frame) {
		tracks = nil
	}
	for i, id := range journal.SentFields {
		b := v.Field(id)
		if !entryColumn(id) && len(b) > 0 && cardLike(b, tracks, v) {
			b = nil
		}
		s.Fields[i] = b
	}
}

// entryColumn: field id is one of the entry's columns, which screened
// checks.
func entryColumn(id int) bool { return id < len(entryColumns) && entryColumns[id] }

// entryColumns marks the fields of entrySpanFields, built once: fillSent
// asks for every recorded field of every request.
var entryColumns = func() (t [129]bool) {
	for _, id := range entrySpanFields {
		t[id] = true
	}
	return t
}()

// cardLike: b holds a track separator (the frame has one: tracks) or
// a window of the card's digits, as journalLeak tells for the columns.
func cardLike(b, tracks []byte, v *iso.View) bool {
	if tracks != nil && iso.HasTrackSeparator(b) {
		return true
	}
	if len(b) < iso.PANWindow {
		return false
	}
	pans := [3][]byte{v.Field(2), iso.TrackPANDigits(v.Field(35)), iso.TrackPANDigits(v.Field(45))}
	return iso.SharesCardDigits(b, tracks, &pans)
}

// Unrecord closes r's in-flight record: the link did not send it.
func (r *request) Unrecord(_ *issuer.Txn) {
	if r.Recorded != 0 {
		r.c.s.jrnl.StageDone(r.Recorded)
		r.Recorded = 0
	}
}

// linkGate is the issuer links' writer gate: the in-flight records of a
// batch are in the log before the batch goes out. Nil without a journal.
func (s *Switch) linkGate() func(uint64) {
	j := s.jrnl
	if j == nil {
		return nil
	}
	return func(t uint64) { j.Commit(journal.Ticket(t)) }
}

// inFlightHold is how long the journal keeps an indexed log segment for
// the in-flight records in it: a request recorded there is finished
// (answered, or timed out with its reversal stored) within its issuer's
// timeout; twice the longest configured, plus a margin, covers a reload
// that lengthens it and a slow store.
func inFlightHold(cfg *config.Config) time.Duration {
	longest := time.Duration(0)
	for _, ic := range cfg.Issuers {
		longest = max(longest, ic.Timeout)
	}
	return 2*longest + 30*time.Second
}

// reverseUnfinished makes the 0420 of a request a previous run recorded
// as sent and never finished (journal.Options.Reverse): the same message
// a timeout stores (buildReversal), from the recorded fields.
func (s *Switch) reverseUnfinished(sent *journal.Sent) (*journal.Reversal, error) {
	frame, err := buildRecoveredReversal(s.spec, sent, time.Now())
	if err != nil {
		return nil, err
	}
	s.log.Warn("request in flight when the switch stopped: reversal stored", "issuer", sent.Issuer,
		"stan", string(sent.Field(11)), "link_stan", sent.LinkSTAN, "rrn", string(sent.Field(37)))
	return &journal.Reversal{Created: sent.Time, Issuer: sent.Issuer, STAN: string(sent.Field(11)),
		RRN: string(sent.Field(37)), Frame: frame}, nil
}

// buildRecoveredReversal packs the 0420 of a recorded request: the PAN
// in 2 (unsealed from the record; absent when it did not decrypt), the
// fields a timeout's reversal copies (reversalFields), 7 now, 39 = 68 and
// 90 = the original MTI, the link STAN, and the original 7, 32 and 33.
func buildRecoveredReversal(spec *iso8583.MessageSpec, sent *journal.Sent, now time.Time) ([]byte, error) {
	out := iso8583.NewMessage(spec)
	out.MTI("0420")
	if len(sent.PAN) > 0 {
		if out.BinaryField(2, sent.PAN) != nil {
			return nil, errors.New("field 2: the recorded PAN does not pack") // moov's error may quote it
		}
	}
	for _, id := range reversalFields {
		if b := sent.Field(id); b != nil {
			if err := out.BinaryField(id, b); err != nil {
				return nil, fmt.Errorf("field %d: %w", id, err)
			}
		}
	}
	orig := string(sent.MTI) + fmt.Sprintf("%06d", sent.LinkSTAN) + pad(string(sent.Field(7)), 10) +
		pad(string(sent.Field(32)), 11) + pad(string(sent.Field(33)), 11)
	if err := out.Field(7, now.UTC().Format("0102150405")); err != nil {
		return nil, err
	}
	if err := out.Field(39, string(iso.CodeLate)); err != nil {
		return nil, err
	}
	if err := out.Field(90, orig); err != nil {
		return nil, err
	}
	return out.Pack()
}

// stageFields stages f. The SQLite journal's method is called directly:
// through the interface f and what it points to (the answer path's stack
// buffers) would escape, and every answer would allocate. Another backend
// gets a deep copy, made only on its path.
func stageFields(j journal.Store, f *journal.Fields) (journal.Ticket, error) {
	if sj, ok := j.(*journal.Journal); ok {
		return sj.StageFields(f)
	}
	return j.StageFields(cloneFields(f))
}

// cloneFields copies f and every slice and string it holds; its time as
// an instant (a copied time.Time would carry f's pointers to the heap).
func cloneFields(f *journal.Fields) *journal.Fields {
	c := &journal.Fields{Time: time.Unix(0, f.Time.UnixNano()), Conn: f.Conn, Latency: f.Latency, Closes: f.Closes}
	c.Outcome = journal.Outcome(strings.Clone(string(f.Outcome)))
	c.Acquirer, c.Remote, c.Issuer = strings.Clone(f.Acquirer), strings.Clone(f.Remote), strings.Clone(f.Issuer)
	c.ResponseCode, c.Reason = strings.Clone(f.ResponseCode), strings.Clone(f.Reason)
	c.AcquirerDialect, c.IssuerDialect = strings.Clone(f.AcquirerDialect), strings.Clone(f.IssuerDialect)
	c.MTI, c.ProcessingCode, c.Amount = bytes.Clone(f.MTI), bytes.Clone(f.ProcessingCode), bytes.Clone(f.Amount)
	c.Currency, c.STAN, c.RRN = bytes.Clone(f.Currency), bytes.Clone(f.STAN), bytes.Clone(f.RRN)
	c.Terminal, c.TransmissionTime, c.PAN = bytes.Clone(f.Terminal), bytes.Clone(f.TransmissionTime), bytes.Clone(f.PAN)
	return c
}

// stageSent is stageFields for an in-flight record.
func stageSent(j journal.Store, s *journal.Sent) (journal.Ticket, uint32, error) {
	if sj, ok := j.(*journal.Journal); ok {
		return sj.StageSent(s)
	}
	c := &journal.Sent{Time: time.Unix(0, s.Time.UnixNano()), Issuer: strings.Clone(s.Issuer), LinkSTAN: s.LinkSTAN,
		MTI: bytes.Clone(s.MTI), PAN: bytes.Clone(s.PAN), Claim: s.Claim}
	for i, b := range s.Fields {
		c.Fields[i] = bytes.Clone(b)
	}
	return j.StageSent(c)
}
