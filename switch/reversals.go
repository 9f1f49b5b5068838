package switchd

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/cardswitch/cardswitch/switch/issuer"
	"github.com/moov-io/iso8583"
	"golang.org/x/time/rate"
)

// reversalMgr is the store-and-forward queue of reversal advices (0420).
//
// When an authorization may have reached the issuer but no usable answer
// came back (timeout, link lost, unreadable answer), the cardholder's money
// is in doubt: the issuer may hold funds the acquirer was told were
// declined. The switch then stores an 0420 (39 = 68, field 90 = the
// original data elements as the issuer saw them) in the journal BEFORE the
// acquirer hears 91, and sends it to the issuer, retrying with backoff
// across reconnects and restarts until an 0430 arrives.
//
// A reversal carries the PAN in field 2 (from the original's 2, or from
// its track 2 when 2 was absent) beside field 90: issuer hosts find the
// card account, and release the hold, by the PAN, and one that requires it
// rejects or never matches a reversal without it. An acquirer's advice
// keeps its PAN the same way. The PAN, and whatever else a stored message
// carries (an acquirer's advice may have 14, the expiry, and 48 with a
// CVV2), the journal keeps only sealed (AES-256-GCM, journal/seal.go),
// while the message is owed: its row is erased when the issuer
// acknowledges it. Track data, PIN blocks and ICC data (35, 36, 45, 52,
// 53, 55) are never stored, not even sealed: the first attempt carries
// none of them, so no retry can.
//
// A retry goes out as a repeat (0421 for an 0420, 0121 for an 0120), so
// that the issuer can tell it from a new advice. An 0430 acknowledges the
// reversal only if it is its answer: the one under its link STAN, with
// the same field 90 when the 0430 echoes 90 (issuer.Txn.Original); any
// other is unmatched, and the reversal stays owed.
//
// An acquirer's own reversal names its original in 90 by the acquirer's
// STAN, which the issuer never saw: relay gives it the original's link
// STAN instead (request.go, original; issuer.Txn.RelinkOriginal), so that
// is also what such a reversal carries when it is stored here.
//
// Under overload the switch's own scheduling can time requests out by the
// thousand: the queue must not turn that into a storm on the issuer. So
// each issuer's reversals go out at no more than reversals.rate per second
// (first tries and retries alike, the oldest first), and a timeout of an
// original already owed a reversal (same issuer, field 90 and RRN) is not
// queued again. The queue itself is the journal; in memory there are only
// the store hand-over (storeQueue), the reversals awaiting an answer
// (bounded by the rate times the issuer's timeout) and the coalescing keys
// (at most maxOwedKeys).
type reversalMgr struct {
	s       *Switch
	j       journal.Store
	stores  chan storeReq
	results chan revResult
	wake    chan struct{}
	pending map[int64]bool // sent, answer awaited; manager goroutine only
	// wentOut holds the stored messages that went out on a link whose
	// outcome the journal could not record (its database down): the
	// journal still holds the first attempt's 0420 or 0120, yet the issuer
	// may have it, so the next attempt goes out as a repeat (repeatOf).
	// At most maxWentOut; manager goroutine only.
	wentOut map[int64]struct{}
	done    chan struct{}
	cancel  context.CancelFunc
	once    sync.Once

	standIns chan standInReq // requests to decide for (standin.go)
	lates    chan lateReq    // issuer answers to requests stood in for
	// stoodIn and lateFirst pair a stood-in request that went out with its
	// issuer's late answer, whichever comes first; entries older than
	// lateMemory are dropped. Manager goroutine only.
	stoodIn   map[*request]stoodIn
	lateFirst map[*request]lateReqAt

	limits     map[string]*rate.Limiter // per issuer (reversals.rate); manager goroutine only
	advLim     map[string]*rate.Limiter // per issuer (stand_in.advice_rate); manager goroutine only
	nextExpire time.Time                // when expireAdvices looks again
	owed       map[string]struct{}      // coalescing keys (revKey) of stored timeout reversals; manager goroutine only
	now        func() time.Time         // the rate limiters' clock
	passed     func()                   // called after each pass over the due reversals (tests); may be nil

	sent      atomic.Int64 // reversal attempts handed to an issuer link
	coalesced atomic.Int64 // timeouts not queued: their original was already owed a reversal
}

// maxWentOut bounds wentOut: past it a message whose outcome was lost
// goes out again as it is stored (0420, 0120), as before it was kept.
const maxWentOut = 1 << 16

// maxOwedKeys bounds the coalescing keys kept: past it a new timeout
// reversal is stored without a key (never coalesced), rather than the
// map growing with the backlog.
const maxOwedKeys = 1 << 16

type storeReq struct {
	rv   journal.Reversal
	then deferred // the acquirer's answer, sent once the reversal is durable
	key  string   // revKey of a timeout reversal, "" for an acquirer's advice
}

type revResult struct {
	rv   journal.Reversal
	code string
	err  error
	sent bool // the attempt went out on a link: the issuer may have it, the next is a repeat
}

func newReversalMgr(s *Switch, j journal.Store) *reversalMgr {
	r := &reversalMgr{s: s, j: j, stores: make(chan storeReq, storeQueue), results: make(chan revResult, 1024),
		wake: make(chan struct{}, 1), pending: make(map[int64]bool), wentOut: make(map[int64]struct{}),
		done:   make(chan struct{}),
		limits: make(map[string]*rate.Limiter), owed: make(map[string]struct{}), now: time.Now, passed: s.revPass,
		standIns: make(chan standInReq, storeQueue), lates: make(chan lateReq, 1024),
		stoodIn: make(map[*request]stoodIn), lateFirst: make(map[*request]lateReqAt), advLim: make(map[string]*rate.Limiter)}
	if s.revClock != nil {
		r.now = s.revClock
	}
	return r
}

func (r *reversalMgr) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go r.run(ctx)
}

// stop ends the manager after it has stored what was handed to it.
func (r *reversalMgr) stop() {
	r.once.Do(func() {
		if r.cancel != nil {
			r.cancel()
			<-r.done
		}
	})
}

func (r *reversalMgr) run(ctx context.Context) {
	defer close(r.done)
	tick := time.NewTicker(min(r.s.live().Reversals.RetryMin, time.Second))
	defer tick.Stop()
	r.sendDue()
	for {
		select {
		case <-ctx.Done():
			r.drainStores()
			return
		case sr := <-r.stores:
			r.storeBatch(sr)
		case si := <-r.standIns:
			r.standInBatch(si)
		case lr := <-r.lates:
			r.lateAnswer(lr)
		case res := <-r.results:
			r.result(res)
		case <-tick.C:
			r.sendDue()
			r.forgetStoodIn()
		case <-r.wake:
			r.sendDue()
		}
	}
}

// drainStores stores what is still queued at shutdown: those acquirers
// are waiting for their 91.
func (r *reversalMgr) drainStores() {
	for {
		select {
		case sr := <-r.stores:
			r.storeBatch(sr)
		case si := <-r.standIns:
			r.standInBatch(si)
		default:
			return
		}
	}
}

// storeQueue bounds the reversals waiting to be stored. Link goroutines
// hand them over here and must not wait on the database: they are stored
// in batches, so a mass timeout costs a few transactions, not one each.
const storeQueue = 1 << 16

// storeBatchMax is the most reversals (or stand-in decisions) stored in
// one transaction.
const storeBatchMax = 1024

// drainQueued is first and whatever else q holds now, up to storeBatchMax:
// one transaction's batch.
func drainQueued[T any](first T, q <-chan T) []T {
	batch := []T{first}
	for len(batch) < storeBatchMax {
		select {
		case v := <-q:
			batch = append(batch, v)
		default:
			return batch
		}
	}
	return batch
}

// storeBatch stores first and whatever else is queued (up to
// storeBatchMax) in one transaction, then lets their acquirers hear 91.
func (r *reversalMgr) storeBatch(first storeReq) {
	batch := drainQueued(first, r.stores)
	rs := make([]*journal.Reversal, 0, len(batch))
	var keys []string
	for i := range batch {
		if r.coalesce(&batch[i]) {
			continue
		}
		rs = append(rs, &batch[i].rv)
		if batch[i].key != "" {
			keys = append(keys, batch[i].key)
		}
	}
	if err := r.add(rs); err != nil {
		for _, k := range keys {
			delete(r.owed, k) // not stored: a later timeout of that original must be
		}
	}
	for _, sr := range batch {
		sr.then.finish()
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// add stores rs in one transaction (none: nothing to do).
func (r *reversalMgr) add(rs []*journal.Reversal) error {
	if len(rs) == 0 {
		return nil
	}
	err := r.j.AddReversals(context.Background(), rs)
	if err != nil {
		for _, rv := range rs {
			r.s.log.Error("REVERSAL NOT STORED: reverse manually", "issuer", rv.Issuer, "stan", rv.STAN,
				"rrn", rv.RRN, "err", err)
		}
	}
	return err
}

// coalesce reports whether sr's original is already owed a reversal (it
// is then not stored again; its acquirer still gets its 91), and else
// remembers its key while there is room.
func (r *reversalMgr) coalesce(sr *storeReq) bool {
	if sr.key == "" {
		return false
	}
	if _, owed := r.owed[sr.key]; owed {
		r.coalesced.Add(1)
		r.s.log.Info("reversal already owed for this original: not queued again", "issuer", sr.rv.Issuer,
			"stan", sr.rv.STAN, "rrn", sr.rv.RRN)
		return true
	}
	if len(r.owed) < maxOwedKeys {
		r.owed[sr.key] = struct{}{}
	}
	return false
}

// revKey identifies the original a timeout reversal reverses: its issuer,
// field 90 (MTI, the link STAN the issuer saw, 7, 32, 33) and RRN.
func revKey(issuerName, original string, rrn []byte) string {
	return issuerName + "\x00" + original + "\x00" + string(rrn)
}

// timedOut queues the reversal of t; d (the acquirer's 91) is finished
// once the reversal is durable (or found already owed).
func (r *reversalMgr) timedOut(t *request, v *iso.View, d deferred) {
	if sr, ok := r.timeoutReq(t, v, d); ok {
		r.stores <- sr
	}
}

// storeTimeout is timedOut on the manager's own goroutine: it stores at
// once rather than queue to itself.
func (r *reversalMgr) storeTimeout(t *request, v *iso.View, d deferred) {
	if sr, ok := r.timeoutReq(t, v, d); ok {
		r.storeBatch(sr)
	}
}

// timeoutReq is the store request of t's timeout reversal; false when
// it cannot be built (d is finished then).
func (r *reversalMgr) timeoutReq(t *request, v *iso.View, d deferred) (storeReq, bool) {
	orig := originalData(&t.Txn, v)
	frame, err := buildReversal(r.s.spec, &t.Txn, v, orig, time.Now())
	if err != nil {
		r.s.log.Error("cannot build reversal: reverse manually", "issuer", t.Issuer, "stan", string(t.STAN[:]), "err", err)
		d.finish()
		return storeReq{}, false
	}
	return storeReq{rv: journal.Reversal{Created: time.Now(), Issuer: t.Issuer, STAN: string(t.STAN[:]),
		RRN: string(v.Field(37)), Frame: frame, NextAttempt: time.Now()}, then: d, key: revKey(t.Issuer, orig, v.Field(37))}, true
}

// sendDue sends, for each configured issuer, the stored reversals whose
// retry time has come, as far as the issuer's rate allows. A reversal
// owed to an issuer no longer configured stays owed until it is again.
func (r *reversalMgr) sendDue() {
	if r.passed != nil {
		defer r.passed()
	}
	now := r.now()
	r.expireAdvices()
	for _, is := range r.s.routes.Load().issuers {
		r.sendDueOf(is.Name, now)
	}
}

// sendDueOf sends issuer name's due reversals and advices, oldest first,
// while their limiters have tokens at now: reversals.rate for reversals
// and acquirers' advices, stand_in.advice_rate for stand-in advices,
// which wait while the issuer is offline.
func (r *reversalMgr) sendDueOf(name string, now time.Time) {
	lim, adv := r.limiter(name, now), r.adviceLimiter(name, now)
	n := int(lim.TokensAt(now)) + int(adv.TokensAt(now))
	if n < 1 {
		return
	}
	// Those awaiting an answer are still due: skip them, so that they do
	// not keep the next ones waiting.
	due, err := r.j.DueReversalsOf(name, time.Now(), n+len(r.pending))
	if err != nil {
		r.s.log.Error("cannot read due reversals", "issuer", name, "err", err)
		return
	}
	// Advices wait for the issuer to be back (a live link, not offline):
	// an attempt that cannot go out would only push the next one back.
	away := r.s.issuerOffline(name)
	if is := r.s.issuerNamed(name); is == nil || is.UpLinks() == 0 {
		away = true
	}
	for _, rv := range due {
		if r.pending[rv.ID] {
			continue
		}
		l := lim
		if rv.Kind == journal.KindStandIn {
			if away {
				continue
			}
			l = adv
		}
		if !l.AllowN(now, 1) {
			continue // its kind waits for the next pass; the other kind may still go
		}
		r.send(rv)
	}
}

// limiter is issuer name's reversal rate limiter, with the rate in force.
func (r *reversalMgr) limiter(name string, now time.Time) *rate.Limiter {
	return limiterAt(r.limits, name, r.s.live().Reversals.Rate, now)
}

// limiterAt is name's limiter in lims at rps per second (a burst of one
// second's worth), made on first use and re-rated when the rate changed.
func limiterAt(lims map[string]*rate.Limiter, name string, rps float64, now time.Time) *rate.Limiter {
	burst := max(1, int(math.Ceil(rps)))
	lim := lims[name]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(rps), burst)
		lims[name] = lim
	} else if lim.Limit() != rate.Limit(rps) {
		lim.SetLimitAt(now, rate.Limit(rps))
		lim.SetBurstAt(now, burst)
	}
	return lim
}

// adviceLimiter is issuer name's stand-in advice rate limiter, with the
// rate in force (stand_in.advice_rate).
func (r *reversalMgr) adviceLimiter(name string, now time.Time) *rate.Limiter {
	rps := float64(config.DefaultAdviceRate)
	cfg := r.s.live()
	if i := cfg.IssuerIndex(name); i >= 0 {
		rps = cfg.Issuers[i].StandIn.AdviceRate
	}
	return limiterAt(r.advLim, name, rps, now)
}

func (r *reversalMgr) send(rv journal.Reversal) {
	if rv.FrameErr != nil {
		r.result(revResult{rv: rv, err: fmt.Errorf("stored reversal cannot be decrypted: %w", rv.FrameErr)})
		return
	}
	var v iso.View
	if err := r.s.scanner.Scan(rv.Frame, &v); err != nil || !v.Has(11) {
		r.result(revResult{rv: rv, err: fmt.Errorf("stored reversal unreadable: %v", err)})
		return
	}
	is := r.s.issuerNamed(rv.Issuer)
	if is == nil {
		r.result(revResult{rv: rv, err: fmt.Errorf("issuer %q is not configured", rv.Issuer)})
		return
	}
	t := &issuer.Txn{Frame: r.repeatOf(rv), Owner: &revOwner{r: r, rv: rv}, Issuer: rv.Issuer,
		Started: time.Now(), Original: v.Span(90)}
	copy(t.MTI[:], v.MTI())
	copy(t.STAN[:], v.Field(11))
	if err := is.Send(t, v.Offset(11)); err != nil {
		r.result(revResult{rv: rv, err: err})
		return
	}
	r.sent.Add(1)
	r.pending[rv.ID] = true
}

// result records an attempt: acknowledged, or retried later with backoff.
func (r *reversalMgr) result(res revResult) {
	delete(r.pending, res.rv.ID)
	if res.err == nil {
		r.forget(res.rv)
		// The acknowledged reversal's row is erased; its ack is the
		// journal entry below.
		if err := r.j.ReversalAcked(res.rv.ID, res.code); err != nil {
			r.s.log.Error("cannot record reversal acknowledgement", "id", res.rv.ID, "err", err)
			r.wentOutUnrecorded(res.rv.ID)
			return
		}
		delete(r.wentOut, res.rv.ID)
		var v iso.View
		_ = r.s.scanner.Scan(res.rv.Frame, &v) // it scanned when it was sent
		pan, _ := iso.RoutingPAN(&v)
		reason := "reversal advice acknowledged by the issuer"
		if storedOutcome(v.MTI()) != journal.Reversed {
			reason = "advice acknowledged by the issuer"
		}
		e := journal.Entry{Time: res.rv.Created, Issuer: res.rv.Issuer, MTI: firstMTI(v.MTI()), STAN: res.rv.STAN,
			RRN: res.rv.RRN, PAN: maskedOrEmpty(pan), ResponseCode: res.code, Outcome: storedOutcome(v.MTI()),
			Reason: reason, Latency: time.Since(res.rv.Created)}
		what := "reversal acknowledged"
		if res.rv.Kind == journal.KindStandIn {
			e.MTI, e.Outcome, e.Reason = "0120", journal.Advised, "stand-in advice acknowledged by the issuer"
			what = "stand-in advice acknowledged"
		}
		r.j.Append(&e, nil)
		r.s.log.Info(what, "issuer", res.rv.Issuer, "stan", res.rv.STAN, "rrn", res.rv.RRN,
			"attempts", res.rv.Attempts+1, "code", res.code)
		return
	}
	next := time.Now().Add(r.backoff(res.rv.Attempts))
	if err := r.attempted(&res, next); err != nil {
		r.s.log.Error("cannot record reversal attempt", "id", res.rv.ID, "err", err)
		if res.sent {
			r.wentOutUnrecorded(res.rv.ID)
		}
	} else if res.sent {
		delete(r.wentOut, res.rv.ID) // the journal holds the repeat now
	}
	r.s.log.Warn("reversal not acknowledged; will retry", "issuer", res.rv.Issuer, "stan", res.rv.STAN,
		"attempts", res.rv.Attempts+1, "next", next.Format(time.RFC3339Nano), "err", res.err)
}

// wentOutUnrecorded remembers that stored message id went out although
// the journal could not record how it went (wentOut).
func (r *reversalMgr) wentOutUnrecorded(id int64) {
	if len(r.wentOut) < maxWentOut {
		r.wentOut[id] = struct{}{}
	}
}

// repeatOf is the frame to send for rv: its stored frame, or a copy
// (the same length, only its MTI's last digit differs) marked as a repeat (0421, 0121) when an earlier attempt went
// out unrecorded (wentOut). The stored frame is left as it is, so that
// attempted stores the repeat should this attempt fail too.
func (r *reversalMgr) repeatOf(rv journal.Reversal) []byte {
	if _, ok := r.wentOut[rv.ID]; !ok {
		return rv.Frame
	}
	frame := append([]byte(nil), rv.Frame...)
	var rep iso.View
	if r.s.scanner.Scan(frame, &rep) != nil || !markRepeat(&rep) {
		return rv.Frame
	}
	return frame
}

// attempted records a failed attempt. One that went out on a link makes
// the stored message a repeat (0421, 0121), which every later attempt
// sends: the issuer may have received it. One that never left (no link,
// the issuer busy) leaves it as it was.
func (r *reversalMgr) attempted(res *revResult, next time.Time) error {
	if res.sent {
		frame := append([]byte(nil), res.rv.Frame...) // the link may still read the frame sent
		var v iso.View
		if r.s.scanner.Scan(frame, &v) == nil && markRepeat(&v) {
			return r.j.ReversalRepeated(&res.rv, frame, next, res.err.Error())
		}
	}
	return r.j.ReversalAttempted(res.rv.ID, next, res.err.Error())
}

// forget drops the coalescing key of an acknowledged reversal: a later
// timeout of that original (a reused STAN) is a new one.
func (r *reversalMgr) forget(rv journal.Reversal) {
	var v iso.View
	if r.s.scanner.Scan(rv.Frame, &v) == nil {
		delete(r.owed, revKey(rv.Issuer, string(v.Field(90)), []byte(rv.RRN)))
	}
}

func (r *reversalMgr) backoff(attempts int) time.Duration {
	rc := r.s.live().Reversals
	d := rc.RetryMin
	for i := 0; i < attempts && d < rc.RetryMax; i++ {
		d *= 2
	}
	return min(d, rc.RetryMax)
}

// revOwner receives the issuer's answer to one reversal attempt.
type revOwner struct {
	r  *reversalMgr
	rv journal.Reversal
}

func (o *revOwner) Answer(_ *issuer.Txn, _ []byte, v *iso.View) {
	o.r.results <- revResult{rv: o.rv, code: string(v.Field(39)), sent: true}
}

func (o *revOwner) Fail(_ *issuer.Txn, err error) {
	o.r.results <- revResult{rv: o.rv, err: err, sent: true}
}

// Unmatched journals and counts an answer that came under the reversal's
// link STAN but is not its answer (issuer.UnmatchedOwner): another field
// 90, or another MTI. It acknowledges nothing: the reversal stays owed,
// and its attempt times out and is retried. The entry holds the answer's
// own fields, its PAN masked.
func (o *revOwner) Unmatched(t *issuer.Txn, _ []byte, v *iso.View, field int, _ bool) {
	s := o.r.s
	s.countUnmatched()
	what := "the MTI"
	if field > 0 {
		what = "field " + strconv.Itoa(field)
	}
	pan, _ := iso.RoutingPAN(v)
	reason := "issuer answer under link STAN " + strconv.FormatUint(uint64(t.LinkSTAN()), 10) +
		" is not the answer to the stored reversal or advice sent there: " + what +
		" differs; not taken as its acknowledgement"
	e := journal.Entry{Time: time.Now(), Issuer: o.rv.Issuer, MTI: string(v.MTI()), STAN: o.rv.STAN,
		RRN: string(v.Field(37)), PAN: maskedOrEmpty(pan), ResponseCode: string(v.Field(39)),
		Outcome: journal.Unmatched, Reason: reason}
	o.r.j.Append(&e, nil)
}

// maskedOrEmpty is the masked PAN, "" when there is none.
func maskedOrEmpty(pan []byte) string {
	if len(pan) == 0 {
		return ""
	}
	return iso.MaskPAN(pan)
}

// markRepeat turns a stored message's MTI, in its frame scanned into v,
// into its repeat: 0420 into 0421, 0120 into 0121 (ISO 8583 sets the
// last digit to 1). Its answer is the first attempt's MTI class (0430).
// It reports whether it changed the frame (false: a repeat already).
func markRepeat(v *iso.View) bool {
	mti := v.MTI()
	if len(mti) != 4 || mti[3] != '0' {
		return false
	}
	return v.Set(0, []byte{mti[0], mti[1], mti[2], '1'}) == nil // same length: in place
}

// storeAdvice stores an acquirer's advice (0120, 0420 ...: isAdvice) the
// issuer cannot take now and, once it is stored, answers the acquirer
// with 00 (0130, 0430): the switch takes over delivery, as a network's
// store-and-forward queue does.
func (c *acqConn) storeAdvice(t *request, v *iso.View) { c.storeAdviceTried(t, v, false) }

// storeAdviceTried is storeAdvice, for an advice that went out to the
// issuer once (sent: relayed, then timed out, its link lost or its answer
// unreadable) stored as a repeat (0421, 0121): the issuer may have it.
func (c *acqConn) storeAdviceTried(t *request, v *iso.View, sent bool) {
	s := c.s
	frame, err := stripCardData(s.spec, t.Frame, v)
	if err == nil && sent {
		var sv iso.View
		if err = s.scanner.Scan(frame, &sv); err == nil {
			markRepeat(&sv)
		}
	}
	if err != nil {
		sp := t.entrySpans()
		c.refuse(v, &sp, t.Started, refusal{code: iso.CodeSystemError, reason: "cannot store advice: " + err.Error(),
			issuer: t.Issuer, req: t})
		return
	}
	resp, err := s.ownResponse(c.asSent(t, v), iso.CodeApproved)
	if err != nil {
		s.log.Error("cannot build 0430", "conn", c.id, "err", err)
		return
	}
	d := deferred{r: t, resp: resp, code: string(iso.CodeApproved), outcome: storedOutcome(v.MTI()),
		reason: "advice accepted by the switch; stored and forwarded to the issuer"}
	s.revs.stores <- storeReq{rv: journal.Reversal{Created: time.Now(), Issuer: t.Issuer, STAN: string(t.STAN[:]),
		RRN: string(v.Field(37)), Frame: frame, NextAttempt: time.Now()}, then: d}
}

// storedOutcome is how the journal records a stored message of MTI mti,
// accepted or acknowledged: a reversal (04xx) reverses; any other advice
// (0120, 0220) reports an approval taken elsewhere.
func storedOutcome(mti []byte) journal.Outcome {
	if len(mti) == 4 && mti[1] == '4' {
		return journal.Reversed
	}
	return journal.Approved
}

// firstMTI is a stored message's MTI as its first attempt had it (0421:
// 0420), for its journal entries.
func firstMTI(mti []byte) string {
	if len(mti) != 4 {
		return string(mti)
	}
	return string(mti[:3]) + "0"
}

// reversalFields are copied from the original into the 0420.
var reversalFields = []int{3, 4, 11, 12, 13, 22, 25, 32, 33, 37, 41, 42, 49}

// buildReversal packs the 0420 for a request that got no usable answer.
// Field 90 carries the original MTI, the STAN the issuer saw (the link's),
// the original transmission date-time and the acquiring and forwarding
// institution ids, so the issuer can find what it is reversing.
func buildReversal(spec *iso8583.MessageSpec, t *issuer.Txn, v *iso.View, orig string, now time.Time) ([]byte, error) {
	in := iso8583.NewMessage(spec)
	if err := in.Unpack(t.Frame); err != nil {
		return nil, err
	}
	out := iso8583.NewMessage(spec)
	out.MTI("0420")
	if err := setPAN(out, v); err != nil {
		return nil, err
	}
	for _, id := range reversalFields {
		if v.Has(id) {
			if b, err := in.GetBytes(id); err == nil && b != nil {
				if err := out.BinaryField(id, b); err != nil {
					return nil, err
				}
			}
		}
	}
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

// originalData is field 90 of t's reversal: the original MTI, the STAN the
// issuer saw (the link's), the original field 7 and 32 and 33.
func originalData(t *issuer.Txn, v *iso.View) string {
	return string(t.MTI[:]) + fmt.Sprintf("%06d", t.LinkSTAN()) + pad(string(v.Field(7)), 10) +
		pad(string(v.Field(32)), 11) + pad(string(v.Field(33)), 11)
}

// setPAN puts the PAN of the message scanned into v into out's field 2:
// its field 2, or the PAN of its track 2 (35) when 2 is absent. The track
// itself is never copied.
func setPAN(out *iso8583.Message, v *iso.View) error {
	pan, _ := iso.RoutingPAN(v)
	if pan == nil {
		return nil
	}
	return out.BinaryField(2, pan)
}

// stripCardData repacks an acquirer's message without track data, PIN
// block or ICC data, for storage: those are never written, not even
// encrypted. The PAN stays in field 2 (taken from track 2 when 2 is
// absent): the issuer needs it. It and the rest (14, 48 among them) are
// stored sealed.
func stripCardData(spec *iso8583.MessageSpec, frame []byte, v *iso.View) ([]byte, error) {
	m := iso8583.NewMessage(spec)
	if err := m.Unpack(frame); err != nil {
		return nil, err
	}
	if !v.Has(2) {
		if err := setPAN(m, v); err != nil {
			return nil, err
		}
	}
	for _, id := range iso.SensitiveFields {
		m.UnsetField(id)
	}
	return m.Pack()
}

// pad right-justifies digits in a zero-filled field of width n.
func pad(s string, n int) string {
	if len(s) >= n {
		return s[len(s)-n:]
	}
	return strings.Repeat("0", n-len(s)) + s
}
