package issuersim

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
)

// conn is one issuer link. Its read goroutine (serve) owns msg; the write
// goroutine (writeLoop) owns the buffered writer; timers are shared with
// the AfterFunc callbacks of delayed answers and guarded by mu.
type conn struct {
	sim *Sim
	nc  net.Conn
	log *slog.Logger
	msg *iso8583.Message
	// reqHdr is the header (TPDU) of the request being handled, valid
	// during handle: answers are framed before it returns.
	reqHdr []byte

	out        chan []byte   // answers (header, then message) awaiting writeLoop
	done       chan struct{} // closed by shutdown
	closeOnce  sync.Once
	writerDone chan struct{}

	mu      sync.Mutex
	stopped bool // no more timers may be scheduled
	timers  map[*time.Timer]struct{}
	pending sync.WaitGroup // delayed answers scheduled and not yet finished or stopped
}

func newConn(s *Sim, nc net.Conn) *conn {
	return &conn{
		sim:        s,
		nc:         nc,
		log:        s.log.With("remote", nc.RemoteAddr().String()),
		msg:        iso8583.NewMessage(s.spec),
		out:        make(chan []byte, outQueueLen),
		done:       make(chan struct{}),
		writerDone: make(chan struct{}),
		timers:     make(map[*time.Timer]struct{}),
	}
}

// serve is the connection's read goroutine. It returns once the connection
// is closed and its writer and delayed answers have finished.
func (c *conn) serve() {
	c.log.Info("issuer link connected")
	go c.writeLoop()
	fr := iso.NewFramedReader(c.nc, c.sim.dialect.Framing, iso.DefaultMaxFrame)
	var err error
	for {
		var hdr, body []byte
		if hdr, body, err = fr.Next(); err != nil {
			break
		}
		c.reqHdr = hdr
		c.handle(body)
	}
	c.shutdown()
	c.cancelTimers()
	<-c.writerDone
	c.log.Info("issuer link closed", "reason", closeReason(err))
}

func closeReason(err error) string {
	switch {
	case errors.Is(err, io.EOF):
		return "peer closed"
	case errors.Is(err, net.ErrClosed):
		return "closed"
	}
	return err.Error()
}

// shutdown closes the socket, which ends the read goroutine, and stops
// the writer. Safe to call from any goroutine, any number of times.
func (c *conn) shutdown() {
	c.closeOnce.Do(func() {
		close(c.done)
		_ = c.nc.Close()
	})
}

// send queues body, behind its answer header, for writing after delay. A
// full queue blocks the reader, which is the back-pressure a peer that
// stops reading deserves.
func (c *conn) send(body []byte, delay time.Duration) {
	frame := c.withHeader(body)
	if delay > 0 {
		c.schedule(frame, delay)
		return
	}
	c.enqueue(frame)
}

func (c *conn) enqueue(frame []byte) {
	select {
	case c.out <- frame:
	case <-c.done:
	}
}

func (c *conn) schedule(frame []byte, delay time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.pending.Add(1)
	var t *time.Timer
	// The callback takes mu before reading t, and t is assigned under mu,
	// so it always sees the assignment.
	t = time.AfterFunc(delay, func() {
		defer c.pending.Done()
		c.mu.Lock()
		delete(c.timers, t)
		c.mu.Unlock()
		c.enqueue(frame)
	})
	c.timers[t] = struct{}{}
}

// cancelTimers stops pending delayed answers and waits for callbacks that
// already started; those find done closed and drop their frame.
func (c *conn) cancelTimers() {
	c.mu.Lock()
	c.stopped = true
	for t := range c.timers {
		if t.Stop() {
			c.pending.Done()
		}
	}
	clear(c.timers)
	c.mu.Unlock()
	c.pending.Wait()
}

// writeLoop writes queued frames and flushes only when the queue is empty,
// so a burst of answers leaves in as few writes as the buffer allows.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	bw := bufio.NewWriterSize(c.nc, writeBufferSize)
	for {
		select {
		case <-c.done:
			return
		case frame := <-c.out:
			if err := c.writeBurst(bw, frame); err != nil {
				c.log.Debug("write failed", "err", err)
				c.shutdown()
				return
			}
		}
	}
}

func (c *conn) writeBurst(bw *bufio.Writer, frame []byte) error {
	for {
		f := c.sim.dialect.Framing
		hl := f.HeaderLen()
		if err := f.WriteFramed(bw, frame[:hl], frame[hl:]); err != nil {
			return err
		}
		select {
		case frame = <-c.out:
		default:
			return bw.Flush()
		}
	}
}
