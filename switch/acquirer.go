package switchd

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/cardswitch/cardswitch/switch/acquirers"
	"github.com/cardswitch/cardswitch/switch/internal/wire"
	"github.com/cardswitch/cardswitch/switch/issuer"
)

// acqConn is one acquirer connection. One goroutine reads and routes its
// requests; answers come back from issuer link goroutines and leave through
// the connection's batching writer.
//
// Errors come in two classes. A message-level error (unparseable message,
// missing field, unknown BIN, issuer down) is a refusal (request.go): it
// is answered with a response code and the connection keeps reading. A
// connection-level error (EOF, a length header above the maximum, a
// timeout, a write failure, an acquirer that stops reading its responses
// or is no longer configured) closes the connection: a *connError from
// the read loop or a handler, or the socket closed by the writer.
type acqConn struct {
	s      *Switch
	lst    *listener // the listener it came in on: its dialect
	conn   net.Conn
	id     uint64
	remote string
	out    *wire.Writer
	// views are the read loop's: the frame being handled's, and the next
	// one's when it was scanned ahead (scanAhead); cur picks the first.
	// Allocated with the frame buffer, at the first byte, so that an idle
	// connection does not hold them.
	views *[2]iso.View
	cur   int
	ahead aheadScan
	key   hashedKey // the current frame's duplicate key, when hashed ahead
	once  sync.Once

	started  time.Time // when the frame being handled arrived (read loop only)
	acquirer string    // the acquirer's configured name, "" when none are configured
	// shownName is acquirer for other goroutines (the status page, an
	// answer finished on a link's): nil when none are configured.
	shownName   atomic.Pointer[string]
	connectedAt time.Time
	acq         *acquirers.Acquirer
	reg         *acquirers.Registry  // the acquirer list acq was resolved in (read loop only)
	subject     string               // verified client certificate subject, "" without mTLS
	unreadable  int                  // frames without a readable MTI so far (read loop only)
	src         netip.Addr           // the source the per-address caps count it under
	pending     bool                 // no complete frame yet (read loop only)
	slow        atomic.Bool          // closed for not reading its answers (counted once)
	inflight    atomic.Int64         // requests of this connection waiting for an issuer
	sending     *iso.View            // the scan of the request being handed to a link (read loop only; inflight.go)
	burst       issuer.Burst         // the requests of the current read, their link and writers to wake (read loop only)
	sendingKey  uint64               // its duplicate key, 0 for none (read loop only; Record notes its link STAN)
	prep        journal.PreparedSent // its in-flight record, made before the link's lock (read loop only; inflight.go)
	prepared    bool                 // prep holds the record of the request being sent, not yet staged

	// The frame being handled's translation state (read loop only; a
	// translating or TPDU listener): its canonical form's buffer, what the
	// translation carried, and its TPDU as received.
	canon []byte
	carry iso.Carry
	tpdu  [iso.TPDULen]byte
}

func (s *Switch) handleConn(l *listener, conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok && s.limits.AcquirerSendBuffer > 0 {
		_ = tc.SetWriteBuffer(s.limits.AcquirerSendBuffer) // a hint; the kernel may round it
	}
	c := &acqConn{s: s, lst: l, conn: conn, id: s.nextConn.Add(1), remote: conn.RemoteAddr().String(),
		connectedAt: time.Now()}
	c.burst = issuer.NewBurst(c.id)
	c.out = wire.NewWriter(conn, s.limits.AcquirerBacklog)
	c.out.SetFraming(l.dialect.Framing)
	if s.direct&wire.DirectAnswers != 0 {
		c.out.SetDirect() // the issuer links' readers write the answers they read
	}
	if j := s.jrnl; j != nil {
		c.out.SetGate(func(t uint64) { j.Commit(journal.Ticket(t)) })
	}
	s.mu.Lock()
	if s.draining.Load() {
		s.mu.Unlock()
		_ = conn.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()
	release, ok := s.admit(c)
	if !ok {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		return
	}
	defer release()
	s.stats.connections.Add(1)
	s.metrics.AcquirerConn(1)
	defer s.metrics.AcquirerConn(-1)
	log := s.log.With("conn", c.id, "remote", c.remote)
	log.Info("acquirer connected")

	go func() {
		if err := c.out.Run(); err != nil {
			log.Warn("acquirer write failed; closing", "err", err)
			_ = c.conn.Close()
		}
	}()
	err := c.readLoop()
	switch {
	case s.draining.Load():
		log.Info("acquirer connection closed for shutdown")
	case c.framingClosed(err):
	case errors.Is(err, iso.ErrFrameTooLarge):
		s.countOversized()
		log.Warn("closing acquirer connection: length header above the maximum message size",
			"err", err, "max", s.live().Listen.MaxMessageSize)
	case err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed):
		log.Info("acquirer disconnected")
	default:
		log.Warn("acquirer connection failed", "err", err)
	}
	c.close()
}

// readLoop reads and handles frames until the connection fails. Between
// frames the connection may stay quiet for the idle timeout; once a frame
// has started it must complete within the frame timeout (a slow-loris
// client cannot hold a connection by trickling bytes).
func (c *acqConn) readLoop() error {
	fr, err := c.firstByte()
	if err != nil {
		return err
	}
	c.views = new([2]iso.View)
	defer c.burst.Done()
	for {
		lc := &c.s.live().Listen // a reload may change the timeouts
		idle, frameTO := lc.IdleTimeout, lc.FrameTimeout
		// A frame read ahead arrived with the read that brought it: it
		// keeps that read's arrival stamp, and costs no clock read.
		fresh := !fr.Complete()
		if fresh { // what was read is handled: its requests go out
			c.burst.Done()
		}
		if fr.Buffered() == 0 {
			c.deadline(idle)
			if err := fr.Wait(); err != nil {
				if c.draining(err) {
					continue
				}
				return c.readErr(err, errIdle)
			}
		}
		if !fr.Complete() { // a frame already read ahead needs no deadline (nor its clock read)
			c.deadline(frameTO)
		}
		frame, err := fr.Next()
		if err != nil {
			if c.draining(err) {
				continue
			}
			return c.readErr(err, errFrameTimeout)
		}
		if fresh {
			c.started = time.Now()
		}
		if c.pending {
			c.firstFrame()
		}
		if c.lst.framed() {
			var ok bool
			if frame, ok = c.fromEdge(fr, frame); !ok {
				continue // answered 30, or unreadable
			}
		}
		v, scanErr := c.scanned(frame)
		c.scanAhead(fr)
		if err := c.handle(frame, v, scanErr); err != nil {
			return err
		}
	}
}

// firstByte waits for the connection's first byte before allocating its
// frame buffer (max_message_size): thousands of idle connections then cost
// a few KiB each instead.
func (c *acqConn) firstByte() (*iso.FrameReader, error) {
	var first [1]byte
	for {
		c.deadline(c.s.live().Listen.IdleTimeout)
		n, err := c.conn.Read(first[:])
		if n == 1 {
			r := io.MultiReader(bytes.NewReader(first[:]), c.conn)
			return iso.NewFrameReaderFraming(r, c.lst.dialect.Framing, c.s.live().Listen.MaxMessageSize), nil
		}
		if err == nil {
			continue
		}
		if c.draining(err) {
			continue
		}
		return nil, c.readErr(err, errIdle)
	}
}

// connError is a connection-level failure: the connection closes once
// the answers queued so far have gone out. A message-level failure is a
// refusal (request.go) instead: it is answered and reading goes on.
type connError struct{ desc string }

func (e *connError) Error() string { return e.desc }

var (
	errAcquirerRemoved = &connError{"acquirer no longer configured after a reload"}
	errIdle            = &connError{"idle timeout: no frame from the acquirer"}
	errFrameTimeout    = &connError{"frame timeout: a frame started but did not complete"}
)

// deadline sets the read deadline d from now (0: none). During shutdown
// the linger deadline set by shutdown stays.
func (c *acqConn) deadline(d time.Duration) {
	t := time.Time{}
	if d > 0 {
		t = time.Now().Add(d)
	}
	_ = c.conn.SetReadDeadline(t)
	// shutdown publishes the linger deadline before applying it to every
	// connection: re-checking here closes the race with that.
	if at := c.s.lingerAt.Load(); at != 0 {
		_ = c.conn.SetReadDeadline(time.Unix(0, at))
	}
}

// draining: a read deadline passed while the switch drains but before the
// final linger. The connection still has answers coming from issuers, so
// it must not close on an idle or frame timeout now: keep reading.
func (c *acqConn) draining(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) && c.s.draining.Load() && c.s.lingerAt.Load() == 0
}

// readErr names why reading stopped; a deadline during shutdown is the
// normal end of the linger.
func (c *acqConn) readErr(err, timeout error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if c.s.draining.Load() {
			return nil
		}
		return timeout
	}
	return err
}

// close flushes queued answers and closes the connection; safe to call
// more than once. The flush is bounded: a peer that stopped reading must
// not hold its connection (or the switch's shutdown) forever.
func (c *acqConn) close() {
	c.once.Do(func() {
		// The writer's last batch commits its answers' journal entries
		// (its gate), then goes out.
		_ = c.conn.SetWriteDeadline(time.Now().Add(closeFlush))
		c.out.Close()
		<-c.out.Done()
		_ = c.conn.Close()
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
}

// closeFlush bounds how long closing a connection waits for its queued
// answers to drain into the socket.
const closeFlush = 2 * time.Second

// queueAfter queues an answer that must wait for its journal entry's log
// write (ticket; 0: none), in the listener's dialect (r: the relayed
// request it answers, nil for the frame being handled; queueAnswer). An acquirer that lets answers pile up unread
// past the backlog limit is disconnected rather than buffered for.
func (c *acqConn) queueAfter(resp []byte, ticket journal.Ticket, r *request) {
	c.queueHeld(resp, ticket, r, nil)
}

// queueHeld is queueAfter; with held set the writer is not woken (its
// caller wakes it with the rest of its burst: wire.Writer.QueueHeld). A
// translated or framed answer takes the same way (queueAnswer).
func (c *acqConn) queueHeld(resp []byte, ticket journal.Ticket, r *request, held *wire.Held) {
	if c.lst.framed() {
		c.queueAnswer(resp, ticket, r, held)
		return
	}
	c.enqueue(c.out.QueueHeld(resp, uint64(ticket), held))
}

// enqueue handles the outcome of queueing an answer.
func (c *acqConn) enqueue(err error) {
	if errors.Is(err, wire.ErrBacklog) && c.slow.CompareAndSwap(false, true) {
		c.s.countSlowAcquirer()
		c.s.log.Warn("closing acquirer connection: it does not read its responses",
			"conn", c.id, "remote", c.remote)
		_ = c.conn.Close()
	}
}
