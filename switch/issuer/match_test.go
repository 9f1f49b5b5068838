package issuer

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is an Owner that keeps what it is told.
type recorder struct {
	answers, fails, lates int
	unmatched             []int // the fields named, in order
	unmatchedLate         []bool
}

func (r *recorder) Answer(*Txn, []byte, *iso.View) { r.answers++ }
func (r *recorder) Fail(*Txn, error)               { r.fails++ }
func (r *recorder) Late(*Txn, []byte, *iso.View)   { r.lates++ }
func (r *recorder) Unmatched(_ *Txn, _ []byte, _ *iso.View, field int, late bool) {
	r.unmatched = append(r.unmatched, field)
	r.unmatchedLate = append(r.unmatchedLate, late)
}

// matchLink is a link with a scanner (no connection: the tests call
// register, sweep and response directly).
func matchLink(t *testing.T, cfg LinkConfig) *Link {
	t.Helper()
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	cfg.Spec, cfg.Scanner = iso.Spec87(), sc
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Hour
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = 2_000_000
	}
	return NewLink(cfg)
}

// request is an 0100 for pan and amount, with RRN and terminal id.
func request(t *testing.T, pan string, amount int, rrn, tid string) []byte {
	t.Helper()
	m := iso.NewMessage(iso.Spec87())
	m.MTI("0100")
	for id, v := range map[int]string{2: pan, 3: "000000", 4: fmt.Sprintf("%012d", amount),
		7: "1207120000", 11: "123456", 37: rrn, 41: tid, 49: "978"} {
		require.NoError(t, m.Field(id, v))
	}
	b, err := m.Pack()
	require.NoError(t, err)
	return b
}

// newTxn is a Txn for frame as the switch makes it (its fields and spans
// taken from the request's scan), and where field 11 lies in frame.
func newTxn(t *testing.T, l *Link, own Owner, frame []byte) (txn *Txn, stanOff int) {
	t.Helper()
	var v iso.View
	require.NoError(t, l.cfg.Scanner.Scan(frame, &v))
	txn = &Txn{Owner: own, Started: time.Now()}
	txn.SetFrame(frame)
	copy(txn.MTI[:], v.MTI())
	copy(txn.STAN[:], v.Field(11))
	copy(txn.RRN[:], v.Field(37))
	copy(txn.Terminal[:], v.Field(41))
	txn.HasRRN, txn.HasTID = true, true
	txn.PAN, txn.Amount = iso.RoutingPANSpan(&v), v.Span(4)
	return txn, int(v.Span(11).Off)
}

// sendTxn registers a Txn for frame as the switch would.
func sendTxn(t *testing.T, l *Link, own Owner, frame []byte) *Txn {
	t.Helper()
	txn, _ := newTxn(t, l, own, frame)
	l.mu.Lock()
	_, err := l.register(txn)
	l.mu.Unlock()
	require.NoError(t, err)
	return txn
}

// answer is the issuer's 00 to req (its echo fields, the link STAN in 11),
// then changed by edit (nil: none).
func answer(t *testing.T, l *Link, req []byte, stan uint32, edit func(v *iso.View)) ([]byte, *iso.View) {
	t.Helper()
	var v iso.View
	require.NoError(t, l.cfg.Scanner.Scan(req, &v))
	resp, err := l.cfg.Scanner.AppendResponse(nil, &v, "00")
	require.NoError(t, err)
	var rv iso.View
	require.NoError(t, l.cfg.Scanner.Scan(resp, &rv))
	var s [6]byte
	putSTAN(s[:], stan)
	require.NoError(t, rv.Set(11, s[:]))
	if edit != nil {
		edit(&rv)
	}
	return resp, &rv
}

// bump changes the last digit of field id in place.
func bump(id int) func(v *iso.View) {
	return func(v *iso.View) {
		f := v.Field(id)
		f[len(f)-1] = '0' + (f[len(f)-1]-'0'+1)%10
	}
}

// An answer that comes under a pending request's link STAN but carries
// another PAN, amount, RRN or terminal id, or the wrong MTI, is not that
// request's answer: the owner hears of it as unmatched (never as its
// answer) and the request stays pending, so that its own answer, when it
// comes, is relayed.
func TestAnswerMustMatchItsRequest(t *testing.T) {
	l := matchLink(t, LinkConfig{})
	own := &recorder{}
	req := request(t, "4000001234567899", 1000, "000000000042", "TERM0001")
	txn := sendTxn(t, l, own, req)
	mtiClass := func(v *iso.View) { v.MTI()[2] = '3' } // 0130: not the answer to an 0100
	for i, edit := range []func(v *iso.View){bump(2), bump(4), bump(37), bump(41), mtiClass} {
		resp, rv := answer(t, l, req, txn.linkSTAN, edit)
		l.response(resp, rv, nil, l.now())
		require.Zero(t, own.answers, "edit %d relayed as the request's answer", i)
		require.Len(t, own.unmatched, i+1, "edit %d", i)
		require.Equal(t, 1, l.InFlight(), "edit %d: the request stays pending", i)
	}
	assert.Equal(t, []int{2, 4, 37, 41, 0}, own.unmatched, "the field that differs (0: the MTI)")
	assert.Zero(t, own.fails)

	resp, rv := answer(t, l, req, txn.linkSTAN, nil)
	l.response(resp, rv, nil, l.now())
	assert.Equal(t, 1, own.answers, "its own answer is relayed")
	assert.Zero(t, l.InFlight())
	assert.Equal(t, txn.STAN[:], rv.Field(11), "with the acquirer's STAN")
}

// The PAN of a request routed by track 2 is compared with the answer's
// field 2; fields the answer does not carry are not compared.
func TestAnswerMatchesTrack2PANAndOmittedFields(t *testing.T) {
	l := matchLink(t, LinkConfig{})
	own := &recorder{}
	m := iso.NewMessage(iso.Spec87())
	m.MTI("0200")
	for id, v := range map[int]string{3: "000000", 4: "000000000500", 7: "1207120000", 11: "000777",
		35: "4000001234567899=29121010000000000000"} {
		require.NoError(t, m.Field(id, v))
	}
	req, err := m.Pack()
	require.NoError(t, err)
	txn := sendTxn(t, l, own, req)

	r := iso.NewMessage(iso.Spec87())
	r.MTI("0210")
	for id, v := range map[int]string{2: "4000001234567890", 11: fmt.Sprintf("%06d", txn.linkSTAN), 39: "00"} {
		require.NoError(t, r.Field(id, v))
	}
	other, err := r.Pack()
	require.NoError(t, err)
	var rv iso.View
	require.NoError(t, l.cfg.Scanner.Scan(other, &rv))
	l.response(other, &rv, nil, l.now())
	assert.Equal(t, []int{2}, own.unmatched, "another PAN than track 2's")

	require.NoError(t, r.Field(2, "4000001234567899"))
	mine, err := r.Pack()
	require.NoError(t, err)
	require.NoError(t, l.cfg.Scanner.Scan(mine, &rv))
	l.response(mine, &rv, nil, l.now())
	assert.Equal(t, 1, own.answers, "track 2's PAN, and no 4, 37 or 41 to compare")
}

// A late answer (after the timeout) is checked in the same way: one that
// is not the timed-out request's answer is unmatched, not late, and the
// request stays remembered for its own.
func TestLateAnswerMustMatchItsRequest(t *testing.T) {
	l := matchLink(t, LinkConfig{Timeout: time.Nanosecond})
	own := &recorder{}
	req := request(t, "4000001234567899", 1000, "000000000042", "TERM0001")
	txn := sendTxn(t, l, own, req)
	waitExpired(t, l, 1)
	require.Equal(t, 1, own.fails)

	resp, rv := answer(t, l, req, txn.linkSTAN, bump(4))
	l.response(resp, rv, nil, l.now())
	assert.Zero(t, own.lates)
	assert.Equal(t, []int{4}, own.unmatched)
	assert.Equal(t, []bool{true}, own.unmatchedLate)

	resp, rv = answer(t, l, req, txn.linkSTAN, nil)
	l.response(resp, rv, nil, l.now())
	assert.Equal(t, 1, own.lates, "its own late answer is still recognised")
}

// waitExpired sweeps until n requests are remembered as timed out (their
// deadline is a nanosecond after they were sent).
func waitExpired(t *testing.T, l *Link, n int) {
	t.Helper()
	for i := 0; ; i++ {
		l.sweep()
		l.mu.Lock()
		got := len(l.late)
		l.mu.Unlock()
		if got >= n {
			return
		}
		require.Less(t, i, 1000, "requests never timed out")
	}
}

// A stored reversal's answer must echo its field 90 when it carries 90,
// and a repeat (0421) is answered by its first attempt's MTI (0430): an
// 0430 with another 90 is unmatched, not its ack. (One without 90 is
// matched by STAN and MTI class, as TestAnswerMatchesTrack2PANAndOmittedFields
// shows for the other fields.)
func TestReversalAnswerMatchesField90(t *testing.T) {
	l := matchLink(t, LinkConfig{})
	m := iso.NewMessage(iso.Spec87())
	m.MTI("0421")
	orig := "010000012312070000000000000000100000000000"
	for id, v := range map[int]string{2: "4000001234567899", 11: "000123", 39: "68", 90: orig} {
		require.NoError(t, m.Field(id, v))
	}
	req, err := m.Pack()
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		edit   func(v *iso.View)
		answer bool
	}{
		{"another 90", bump(90), false},
		{"0431", nil, true},
		{"0430", func(v *iso.View) { v.MTI()[3] = '0' }, true},
		{"0430 with another 90", func(v *iso.View) { v.MTI()[3] = '0'; bump(90)(v) }, false},
	} {
		own := &recorder{}
		var v iso.View
		require.NoError(t, l.cfg.Scanner.Scan(req, &v))
		txn := &Txn{Owner: own, Started: time.Now(), Original: v.Span(90)}
		txn.SetFrame(req)
		copy(txn.MTI[:], v.MTI())
		copy(txn.STAN[:], v.Field(11))
		l.mu.Lock()
		_, err := l.register(txn)
		l.mu.Unlock()
		require.NoError(t, err)
		resp, rv := answer(t, l, req, txn.linkSTAN, tc.edit)
		l.response(resp, rv, nil, l.now())
		if tc.answer {
			assert.Equal(t, 1, own.answers, tc.name)
			continue
		}
		assert.Equal(t, []int{90}, own.unmatched, tc.name)
		l.mu.Lock()
		l.answered(txn)
		l.mu.Unlock()
	}
}

// A relayed acquirer reversal (0420, its repeat 0421, an 0400), its Txn's
// Original on its field 90 as the switch sets it: its answer may omit 90
// (issuers often do in an 0430/0410: matched by link STAN and MTI class),
// or echo the same 90; an answer echoing another 90 answers another
// reversal and is unmatched. Lenient on absence, strict on difference.
func TestRelayedReversalAnswerField90(t *testing.T) {
	const orig = "010000004212070000000000000000100000000000"
	other := "0100999999" + orig[10:]
	for _, mti := range []string{"0420", "0421", "0400"} {
		for _, tc := range []struct {
			name   string
			ans90  string // "": the answer has no 90
			answer bool
		}{{"no 90", "", true}, {"the same 90", orig, true}, {"another 90", other, false}} {
			l := matchLink(t, LinkConfig{})
			req := reversalFrame(t, mti, map[int]string{2: "4000001234567899", 4: "000000001000", 11: "000123", 90: orig})
			var v iso.View
			require.NoError(t, l.cfg.Scanner.Scan(req, &v))
			own := &recorder{}
			txn := &Txn{Owner: own, Started: time.Now(), Original: v.Span(90)}
			txn.SetFrame(req)
			copy(txn.MTI[:], v.MTI())
			copy(txn.STAN[:], v.Field(11))
			txn.PAN, txn.Amount = iso.RoutingPANSpan(&v), v.Span(4)
			l.mu.Lock()
			_, err := l.register(txn)
			l.mu.Unlock()
			require.NoError(t, err)
			fields := map[int]string{2: "4000001234567899", 4: "000000001000", 11: fmt.Sprintf("%06d", txn.linkSTAN), 39: "00"}
			if tc.ans90 != "" {
				fields[90] = tc.ans90
			}
			resp := reversalFrame(t, mti[:2]+string(mti[2]+1)+"0", fields) // 0430 answers an 0421 too
			var rv iso.View
			require.NoError(t, l.cfg.Scanner.Scan(resp, &rv))
			l.response(resp, &rv, nil, l.now())
			if tc.answer {
				assert.Equal(t, 1, own.answers, "%s: %s", mti, tc.name)
				continue
			}
			assert.Zero(t, own.answers, "%s: %s", mti, tc.name)
			assert.Equal(t, []int{90}, own.unmatched, "%s: %s", mti, tc.name)
		}
	}
}

// reversalFrame packs a message of mti with fields.
func reversalFrame(t *testing.T, mti string, fields map[int]string) []byte {
	t.Helper()
	m := iso.NewMessage(iso.Spec87())
	m.MTI(mti)
	for id, v := range fields {
		require.NoError(t, m.Field(id, v))
	}
	b, err := m.Pack()
	require.NoError(t, err)
	return b
}
