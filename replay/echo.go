package replay

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardswitch/cardswitch/internal/dialectio"
	"github.com/cardswitch/cardswitch/iso"
)

// EchoServer is the cheapest possible ISO 8583 peer: it answers each frame
// with the same frame, MTI turned into its response MTI (0100 → 0110).
// It exists to measure the load generator's own cost and to test pacing;
// it is not an issuer (no field 39) unless made by NewApprovingEchoServer.
type EchoServer struct {
	ln        net.Listener
	approve   bool // answer with 39=00 and 38 (a lean issuer)
	dialect   iso.Dialect
	xl        *iso.Translator // dialect <-> canonical; nil for a canonical dialect
	wg        sync.WaitGroup
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
	closed    bool
	requests  atomic.Int64
	stallAt   atomic.Int64 // request number after which to stall; 0 = never
	stallFor  atomic.Int64 // ns
	stallDone chan struct{}
}

// NewEchoServer listens on addr ("127.0.0.1:0" for a free port) and
// serves until Close.
func NewEchoServer(addr string) (*EchoServer, error) { return startEchoServer(addr, nil) }

// startEchoServer listens on addr, lets set configure the server, and only
// then starts accepting: its connections read what set wrote without a
// lock.
func startEchoServer(addr string, set func(*EchoServer)) (*EchoServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	e := &EchoServer{ln: ln, conns: map[net.Conn]struct{}{}, stallDone: make(chan struct{})}
	if set != nil {
		set(e)
	}
	e.wg.Add(1)
	go e.accept()
	return e, nil
}

// NewApprovingEchoServer is an EchoServer that answers like an issuer that
// approves everything: each response also carries 39=00 and 38=000001,
// added by editing the frame in place (no unpack, no pack). Benchmarks use
// it as an issuer that is never the bottleneck.
func NewApprovingEchoServer(addr string) (*EchoServer, error) {
	if _, err := newApprover(); err != nil { // fail here, not per connection
		return nil, err
	}
	return startEchoServer(addr, func(e *EchoServer) { e.approve = true })
}

// NewEchoServerIn is NewEchoServer (approve false) or
// NewApprovingEchoServer (approve true) speaking dialect d: each request is
// read with d's framing and translated to the canonical form by
// iso.Translator, answered there as in iso87ascii, translated back with
// the request's Carry (a 1993 peer gets its own 12, 22, 24, 25 back and an
// action code) and framed, behind the request's TPDU with the NIIs
// swapped. The translator's fast path keeps it far cheaper than a moov
// issuer; iso87ascii itself is served by NewEchoServer's path unchanged.
func NewEchoServerIn(addr string, d iso.Dialect, approve bool) (*EchoServer, error) {
	if _, err := newApprover(); err != nil {
		return nil, err
	}
	var xl *iso.Translator
	if !d.Canonical() {
		var err error
		if xl, err = iso.NewTranslator(d); err != nil {
			return nil, err
		}
	}
	return startEchoServer(addr, func(e *EchoServer) { e.approve, e.dialect, e.xl = approve, d, xl })
}

// Addr is the bound address.
func (e *EchoServer) Addr() string { return e.ln.Addr().String() }

// Requests counts frames answered so far.
func (e *EchoServer) Requests() int64 { return e.requests.Load() }

// StallOnce makes the connection that reads request number after stop
// reading (and answering) for d, once; Stalled is closed when it resumes.
func (e *EchoServer) StallOnce(after int64, d time.Duration) {
	e.stallFor.Store(int64(d))
	e.stallAt.Store(after)
}

// Stalled is closed once the stall set by StallOnce is over.
func (e *EchoServer) Stalled() <-chan struct{} { return e.stallDone }

// Close stops the server and waits for its goroutines.
func (e *EchoServer) Close() error {
	e.mu.Lock()
	e.closed = true
	for c := range e.conns {
		_ = c.Close()
	}
	e.mu.Unlock()
	err := e.ln.Close()
	e.wg.Wait()
	return err
}

func (e *EchoServer) accept() {
	defer e.wg.Done()
	for {
		nc, err := e.ln.Accept()
		if err != nil {
			return
		}
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			_ = nc.Close()
			return
		}
		e.conns[nc] = struct{}{}
		e.wg.Add(1)
		e.mu.Unlock()
		if e.dialect.Name == "" || e.dialect.Name == dialectio.Default {
			go e.serve(nc)
		} else {
			go e.serveDialect(nc)
		}
	}
}

// serve answers frames in order; responses are flushed only when no
// further request is already buffered, so bursts leave in one write.
func (e *EchoServer) serve(nc net.Conn) {
	defer e.wg.Done()
	defer func() {
		e.mu.Lock()
		delete(e.conns, nc)
		e.mu.Unlock()
		_ = nc.Close()
	}()
	fr := iso.NewFrameReader(nc, iso.MaxFrameLen)
	bw := bufio.NewWriterSize(nc, 64<<10)
	var ap *approver
	if e.approve {
		ap, _ = newApprover() // checked by NewApprovingEchoServer
	}
	for {
		body, err := fr.Next()
		if err != nil {
			return
		}
		switch {
		case ap != nil:
			body = ap.answer(body) // body is ours until the next Next
		case len(body) >= 4:
			resp := iso.ResponseMTI(body[:4])
			copy(body[:4], resp[:])
		}
		if err := iso.WriteFrame(bw, body); err != nil {
			return
		}
		e.maybeStall(bw)
		if fr.Buffered() == 0 && bw.Flush() != nil {
			return
		}
	}
}

// serveDialect is serve in e.dialect (NewEchoServerIn).
func (e *EchoServer) serveDialect(nc net.Conn) {
	defer e.wg.Done()
	defer func() {
		e.mu.Lock()
		delete(e.conns, nc)
		e.mu.Unlock()
		_ = nc.Close()
	}()
	f := e.dialect.Framing
	fr := iso.NewFramedReader(nc, f, iso.MaxFrameLen)
	bw := bufio.NewWriterSize(nc, 64<<10)
	ap, _ := newApprover() // checked by NewEchoServerIn
	var carry iso.Carry
	var canon, wire, out []byte
	var tpdu [iso.TPDULen]byte
	for {
		hdr, body, err := fr.Next()
		if err != nil {
			return
		}
		if e.xl != nil {
			carry = iso.Carry{}
			if canon, err = e.xl.ToCanon(canon[:0], body, &carry); err != nil {
				return // a peer this server cannot read: as a framing error
			}
			body = canon
		}
		if e.approve {
			body = ap.answer(body)
		} else if len(body) >= 4 {
			resp := iso.ResponseMTI(body[:4])
			copy(body[:4], resp[:])
		}
		if e.xl != nil {
			if wire, err = e.xl.FromCanon(wire[:0], body, &carry); err != nil {
				return
			}
			body = wire
		}
		if f.Header == iso.HeaderTPDU {
			iso.AnswerTPDU(tpdu[:], hdr)
			hdr = tpdu[:]
		}
		if out, err = f.AppendFrame(out[:0], hdr, body); err != nil {
			return
		}
		if _, err := bw.Write(out); err != nil {
			return
		}
		e.maybeStall(bw)
		if fr.Buffered() == 0 && bw.Flush() != nil {
			return
		}
	}
}

func (e *EchoServer) maybeStall(bw *bufio.Writer) {
	n := e.requests.Add(1)
	at := e.stallAt.Load()
	if at == 0 || n != at || !e.stallAt.CompareAndSwap(at, 0) {
		return
	}
	_ = bw.Flush()                               // the stalled request's own answer goes out
	time.Sleep(time.Duration(e.stallFor.Load())) // the stall is the point
	close(e.stallDone)
}
