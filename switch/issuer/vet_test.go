package issuer

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errLost stands for the journal's verdict on a lost claim
// (journal.ErrClaimed or ErrClaimUnknown; the link passes it on as is).
var errLost = errors.New("claim lost")

// claimOwner is a Recorder whose request's claim the gate's write decides
// as claim says; it hands every outcome to its channels.
type claimOwner struct {
	claim error
	fails chan error
	lates chan struct{}
}

func newClaimOwner(claim error) *claimOwner {
	return &claimOwner{claim: claim, fails: make(chan error, 4), lates: make(chan struct{}, 4)}
}

func (o *claimOwner) Answer(*Txn, []byte, *iso.View)     { o.fails <- errors.New("answered") }
func (o *claimOwner) Fail(_ *Txn, err error)             { o.fails <- err }
func (o *claimOwner) Late(*Txn, []byte, *iso.View)       { o.lates <- struct{}{} }
func (o *claimOwner) Record(*Txn, uint32) (uint64, bool) { return 1, true }
func (o *claimOwner) Unrecord(*Txn)                      {}
func (o *claimOwner) Claimed(*Txn) error                 { return o.claim }

// heldGate is a link writer's gate that holds the first batch with a
// ticket until released (as a slow journal write does).
type heldGate struct {
	entered chan struct{}
	release chan struct{}
}

func (g *heldGate) gate(uint64) {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-g.release
}

// vetIssuer is a loopback issuer: it answers 0800s and every 0100 with
// 00, and hands the MTI of every frame it reads to got, in order, closed
// once its connection ends.
func vetIssuer(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	ch := make(chan string, 16)
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	go func() {
		defer close(ch)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		fr := iso.NewFrameReaderFraming(conn, iso.Framing{}, 4096)
		for {
			frame, err := fr.Next()
			if err != nil {
				return
			}
			var v iso.View
			if sc.Scan(frame, &v) != nil {
				return
			}
			ch <- string(v.MTI())
			resp, err := sc.AppendResponse(nil, &v, "00")
			if err != nil {
				return
			}
			out := binary.BigEndian.AppendUint16(nil, uint16(len(resp))) // #nosec G115 -- a short frame
			if _, err := conn.Write(append(out, resp...)); err != nil {
				return
			}
		}
	}()
	return ln.Addr().String(), ch
}

// overdue is a live link to a loopback issuer, signed on, with a claimed
// 0100 on it whose timeout fired while the link writer's gate held it.
type overdue struct {
	l         *Link
	gate      *heldGate
	own       *claimOwner
	txn       *Txn
	issuerGot <-chan string // the MTIs the issuer read since the sign-on
	cancel    func()        // closes the link and waits for it to end
}

// newOverdue sends a 0100 whose claim the gate's write decides as claim
// (nil: won) on a new link, and sweeps the link until the 0100's deadline
// has passed, with the gate holding it.
func newOverdue(t *testing.T, claim error) *overdue {
	t.Helper()
	o := &overdue{gate: &heldGate{entered: make(chan struct{}, 1), release: make(chan struct{})},
		own: newClaimOwner(claim)}
	o.l, o.issuerGot, o.cancel = gatedLink(t, o.gate)
	o.txn = sendOverdue(t, o.l, o.gate, o.own)
	return o
}

// gatedLink is a live link to a loopback issuer whose writer's gate is g,
// signed on; cancel closes it, and the test waits for it to end.
func gatedLink(t *testing.T, g *heldGate) (l *Link, issuerGot <-chan string, cancel func()) {
	t.Helper()
	addr, got := vetIssuer(t)
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	up := make(chan bool, 4)
	var d net.Dialer
	dial := func(ctx context.Context, a string) (net.Conn, error) { return d.DialContext(ctx, "tcp", a) }
	l = NewLink(LinkConfig{Issuer: "bank", Addr: addr, Timeout: time.Hour, ConnectTimeout: 10 * time.Second,
		ReconnectMin: time.Second, ReconnectMax: time.Second, MaxFrame: 4096, MaxInFlight: 16, WriteBacklog: 1 << 16,
		Spec: iso.Spec87(), Scanner: sc, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Dial: dial, Gate: g.gate, OnState: func(_ *Link, u bool) { up <- u }})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	cancel = func() { stop(); <-done }
	t.Cleanup(func() {
		select {
		case <-g.release:
		default:
			close(g.release)
		}
		cancel()
	})
	require.True(t, <-up, "link up")
	require.Equal(t, "0800", <-got, "sign-on")
	return l, got, cancel
}

// sendOverdue sends a claimed 0100 for own on l while l's gate holds it,
// and sweeps l until its deadline has passed: the timeout fired before the
// gate let the request's batch go.
func sendOverdue(t *testing.T, l *Link, g *heldGate, own *claimOwner) *Txn {
	t.Helper()
	l.SetTiming(time.Nanosecond, 0)
	txn := sendHeld(t, l, g, own)
	l.SetTiming(time.Hour, 0) // the link's own 0800s must not time out
	for i := 0; ; i++ {
		require.Less(t, i, 1000, "the request's deadline never passed")
		l.sweep()
		if deadlinePassed(l, txn) {
			break
		}
	}
	select {
	case err := <-own.fails:
		t.Fatalf("a request that has not passed its gate was failed (%v) before its vet: it was never written", err)
	default:
	}
	return txn
}

// sendHeld sends a claimed 0100 for own on l and returns once l's gate
// holds it.
func sendHeld(t *testing.T, l *Link, g *heldGate, own *claimOwner) *Txn {
	t.Helper()
	txn, stanOff := newTxn(t, l, own, request(t, "4000001234567899", 1000, "000000000042", "TERM0001"))
	require.NoError(t, l.Send(txn, stanOff))
	<-g.entered
	return txn
}

// deadlinePassed: txn's deadline entry has left the link's queue (the
// sweep expired it).
func deadlinePassed(l *Link, txn *Txn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	live := l.fifo.items[l.fifo.head:]
	i, ok := find(live, txn.seq)
	return !ok || live[i].done
}

// awaitFail is the next outcome own is told.
func awaitFail(t *testing.T, own *claimOwner) error {
	t.Helper()
	select {
	case err := <-own.fails:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the request was never failed")
		return nil
	}
}

// echoed sends an echo on l and waits for its answer: every frame written
// before it has reached the issuer by then.
func echoed(t *testing.T, l *Link) {
	t.Helper()
	require.NoError(t, <-l.sendNetMgmt(iso.NetEcho))
}

// A claimed request whose timeout fires while the journal's write (the
// gate) still holds it, and whose claim is then lost (another node sent
// the same transaction), never left: it is failed with the claim's error
// only, not with the timeout (which would store a 0420 of the other
// node's transaction), and the issuer never gets it.
func TestVetAfterTimeoutClaimLost(t *testing.T) {
	o := newOverdue(t, errLost)
	l, own := o.l, o.own

	close(o.gate.release)
	require.ErrorIs(t, awaitFail(t, own), errLost, "answered as unclaimed")
	echoed(t, l)
	assert.Equal(t, "0800", <-o.issuerGot, "the issuer's next frame is the echo: the request was dropped")
	assert.Zero(t, l.InFlight())
	l.mu.Lock()
	defer l.mu.Unlock()
	assert.Empty(t, l.late, "nothing remembered: no answer can come")
	assert.Zero(t, l.stans.held, "its STAN is free")
	assert.Empty(t, own.fails, "failed once")
}

// A claimed request whose timeout fires while the gate holds it, and
// whose claim is then won, is written after its timeout: it times out
// then (its reversal is due: the issuer gets it), and the issuer's answer
// is a late one.
func TestVetAfterTimeoutClaimWon(t *testing.T) {
	o := newOverdue(t, nil)
	l, own := o.l, o.own

	close(o.gate.release)
	require.ErrorIs(t, awaitFail(t, own), ErrTimeout)
	assert.Equal(t, "0100", <-o.issuerGot, "the request went out")
	<-own.lates // its answer came after the timeout
	echoed(t, l)
	assert.Zero(t, l.InFlight())
	assert.Empty(t, own.fails, "failed once")
}

// A claimed request whose timeout fired while the gate holds it, on a link
// that closes before the gate lets go, was never written: it is failed
// once, as not sent (ErrNotSent, never ErrLinkLost, which its owner
// reverses: with the claim lost, its 0420 would name the other node's
// approved request), and not remembered: no answer can come. The vet that
// comes after the teardown adds nothing.
func TestVetAfterTimeoutLinkClosed(t *testing.T) {
	o := newOverdue(t, errLost)
	l, own := o.l, o.own
	l.mu.Lock()
	out := l.out
	l.mu.Unlock()

	o.cancel()
	require.ErrorIs(t, awaitFail(t, own), ErrNotSent)
	assertForgotten(t, l, o.txn)
	close(o.gate.release)
	<-out.Done() // the vet has run
	assert.Empty(t, own.fails, "failed once")
	assertForgotten(t, l, o.txn)
}

// A claimed request the gate still holds when the link's connection is
// lost was not written, and never is on that connection: whatever its
// claim (won here), it is failed as not sent, not as lost in flight (its
// owner would reverse a request the issuer never got from this node),
// once, and the issuer gets nothing.
func TestVetLinkLostNotSent(t *testing.T) {
	g := &heldGate{entered: make(chan struct{}, 1), release: make(chan struct{})}
	l, issuerGot, _ := gatedLink(t, g)
	own := newClaimOwner(nil)
	txn := sendHeld(t, l, g, own)
	l.mu.Lock()
	out, conn := l.out, l.conn
	l.mu.Unlock()

	require.NoError(t, conn.Close()) // the connection is lost
	require.ErrorIs(t, awaitFail(t, own), ErrNotSent)
	assertForgotten(t, l, txn)
	close(g.release)
	<-out.Done() // the vet has run
	for mti := range issuerGot {
		t.Errorf("the issuer got a %s after the sign-on", mti)
	}
	assert.Empty(t, own.fails, "failed once")
	assertForgotten(t, l, txn)
}

// assertForgotten: txn is neither pending nor remembered on l.
func assertForgotten(t *testing.T, l *Link, txn *Txn) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	assert.NotSame(t, txn, l.pending[txn.linkSTAN], "not pending")
	assert.NotSame(t, txn, l.late[txn.linkSTAN], "not remembered: no answer can come")
}
