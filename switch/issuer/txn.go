package issuer

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/switch/internal/wire"
)

// Why a request failed; the switch maps each to the response code its
// acquirer gets (see the README's table of switch-generated codes).
var (
	// ErrTimeout: the issuer did not answer within its timeout (91).
	ErrTimeout = errors.New("issuer did not answer in time")
	// ErrLinkLost: the connection the request went out on broke before
	// the answer came (91).
	ErrLinkLost = errors.New("issuer link lost with the request in flight")
	// ErrNotSent: the link was lost while the request waited, unwritten,
	// for its duplicate claim to be decided (vet.go): the issuer never got
	// it from this node, and its claim may be this node's or another's.
	// Nothing to reverse; answered as an undecided claim (91).
	ErrNotSent = errors.New("issuer link lost before the request was sent")
	// ErrNoLink: no live connection to the issuer (91, at once).
	ErrNoLink = errors.New("issuer has no live connection")
	// ErrBadResponse: the issuer's answer matched the request by STAN but
	// could not be parsed (96).
	ErrBadResponse = errors.New("issuer response unreadable")
	// ErrNoSTAN: every STAN of the link is held by a pending or a
	// remembered (timed-out) request; the link takes nothing until one is
	// free (91, or another link). It is an ErrBusy.
	ErrNoSTAN = fmt.Errorf("%w: every STAN pending or remembered", ErrBusy)
)

// Owner receives the outcome of a Txn. Exactly one of Answer or Fail is
// called, exactly once, from a link goroutine: it must not block.
type Owner interface {
	// Answer gets the issuer's response with the acquirer's own STAN, RRN
	// and terminal id put back, and the link's scan of it (so the owner
	// need not scan it again). Both are only valid during the call.
	// t.Latency is set by then.
	Answer(t *Txn, resp []byte, v *iso.View)
	// Fail tells why no usable answer will come.
	Fail(t *Txn, err error)
}

// HeldOwner is an Owner that queues its answer to a writer without waking
// it (wire.Writer.QueueHeld, noting it in held): the link's reader wakes
// every writer it queued answers to once it has handled all it read in
// one go, so that the answers of a burst leave in one write per acquirer
// connection. The link calls AnswerHeld instead of Answer.
type HeldOwner interface {
	AnswerHeld(t *Txn, resp []byte, v *iso.View, held *wire.Held)
}

// LateOwner is an Owner that also wants responses arriving after the
// request timed out (to journal them; they are never relayed).
type LateOwner interface {
	Late(t *Txn, resp []byte, v *iso.View)
}

// UnmatchedOwner is an Owner that wants to hear of an answer that came
// under its request's link STAN but is not the answer to it (Txn.Mismatch
// names the field): it is never relayed, and the request stays pending (or
// remembered, when it had timed out) for its own answer. late: the request
// had already timed out. Called from a link goroutine without the link's
// lock held; resp and v are only valid during the call.
type UnmatchedOwner interface {
	Unmatched(t *Txn, resp []byte, v *iso.View, field int, late bool)
}

// Txn is one request in flight to an issuer. An owner that needs more
// per request embeds it in its own type, and is the Txn's Owner.
//
// Matching: the switch gives every request its own STAN on the link it
// goes out on (field 11 is rewritten in place; it is fixed-length), and
// puts the acquirer's STAN back on the way out. Acquirers keep STANs unique
// only per terminal, so many acquirer connections routinely send the same
// STAN at once; a per-link STAN makes every in-flight request on a link
// unique by construction, keeps the issuer's view of the link consistent
// (it sees a normal, unique STAN sequence) and needs no composite key
// that the issuer would have to echo faithfully. A link STAN is not handed
// out again while a pending or remembered request holds it (stanSet,
// forgetLate), and an answer under it reaches the request only if the
// fields it echoes are the request's (mismatch): a late answer to an
// older request must never be taken for a newer one's.
type Txn struct {
	Frame []byte // the request as sent by the acquirer; owned by the Txn
	Owner Owner

	// Set by the switch from the request, restored into the response.
	STAN     [6]byte
	RRN      [12]byte
	HasRRN   bool
	Terminal [8]byte
	HasTID   bool
	MTI      [4]byte
	// PAN and Amount are where the request's PAN (field 2, or the PAN in
	// track 2) and amount (4) lie in Frame: an answer that echoes them
	// must carry the same (see Mismatch). Zero spans are not compared.
	PAN, Amount iso.Span

	Issuer  string
	Started time.Time
	// Latency is Started to the read that brought the answer, set just
	// before Answer: the link reads the clock once per read, not once per
	// answer.
	Latency time.Duration

	linkSTAN uint32
	// Original is where field 90 lies in Frame (the original data
	// elements of a reversal or advice, stored or relayed from an
	// acquirer): an answer that echoes 90 must carry the same (see
	// mismatch); one without 90 is not refused for it. The zero span is
	// not compared. It sits beside linkSTAN.
	Original iso.Span
	// Recorded is the Recorder's own mark of the request's record (the
	// switch: its journal in-flight record), 0 for none.
	Recorded uint32
	// marks fills the padding after Recorded with two things: the STAN
	// of the acquirer's own original that field 90 named before
	// RelinkOriginal put the original's link STAN there (acqOriginal,
	// with relinked set), restored into the answer's 90 (no relinked: 90
	// as sent); and awaitingVet (vet.go). A reversal, the only request
	// relinked, is never vetted: the link changes awaitingVet, under its
	// lock, only on a request no one else reads the word of meanwhile.
	marks    uint32
	seq      uint64
	admitted *atomic.Int64 // the issuer's count it holds a place in (Admit), nil when none

	inline [inlineFrame]byte // Frame's storage when it fits (SetFrame)
}

// inlineFrame is the request size SetFrame keeps inside the Txn: an
// authorization is usually 100-250 bytes. 248, not 256: with it a Txn is
// 408 bytes, and the switch's request that embeds one fits the 448-byte
// allocation size class (456 would take 480).
const inlineFrame = 248

// SetFrame makes Frame a copy of frame, inside the Txn when it fits: one
// allocation per request instead of two. A Txn must not be copied by
// value once it has a frame.
func (t *Txn) SetFrame(frame []byte) {
	if len(frame) <= len(t.inline) {
		t.Frame = append(t.inline[:0:len(t.inline)], frame...)
		return
	}
	t.Frame = append([]byte(nil), frame...)
}

// Leave gives back t's place under its issuer's in-flight cap (Admit);
// calling it again, or for a Txn never admitted, does nothing. Call it
// from the goroutine that finishes t.
func (t *Txn) Leave() {
	if t.admitted != nil {
		t.admitted.Add(-1)
		t.admitted = nil
	}
}

// The parts of Txn.marks: the acquirer's original STAN (below 10^6 <
// 2^20); relinked, set with it (an acquirer's STAN may be 0);
// awaitingVet, a request queued to be vetted and not vetted yet.
const (
	acqOriginal = 1<<20 - 1
	relinked    = 1 << 31
	awaitingVet = 1 << 30
)

// origSTANAt is where the original STAN lies in field 90 (ISO 8583:1987
// original data elements: MTI 4, STAN 6, transmission date-time 10,
// acquiring and forwarding institution ids 11 each).
const (
	origSTANAt  = 4
	origDataLen = 42
)

// RelinkOriginal makes field 90 of t's frame (an acquirer's reversal)
// name its original as the issuer saw it: the original's link STAN in
// place of the acquirer's STAN, which restore puts back into the answer.
// The issuer never saw the acquirer's STAN: an issuer that finds the
// original by 90 would not find it. It reports false, changing nothing,
// when 90 is absent or not 42 characters with a numeric STAN.
func (t *Txn) RelinkOriginal(linkSTAN uint32) bool {
	f := t.Original.In(t.Frame)
	if len(f) != origDataLen {
		return false
	}
	acq, ok := parseSTAN(f[origSTANAt : origSTANAt+6])
	if !ok {
		return false
	}
	t.marks = t.marks&^acqOriginal | acq | relinked
	putSTAN(f[origSTANAt:origSTANAt+6], linkSTAN)
	return true
}

// AcquirerFrame is t's frame as its acquirer sent it: a copy with the
// acquirer's STAN back in 90 when RelinkOriginal changed it, else Frame
// itself. For the switch's own answer to such a request, which echoes
// the acquirer's 90.
func (t *Txn) AcquirerFrame() []byte {
	if t.marks&relinked == 0 {
		return t.Frame
	}
	f := append([]byte(nil), t.Frame...)
	putSTAN(t.Original.In(f)[origSTANAt:origSTANAt+6], t.marks&acqOriginal)
	return f
}

// LinkSTAN is the STAN the issuer saw for this request (0 before Send).
func (t *Txn) LinkSTAN() uint32 { return t.linkSTAN }
