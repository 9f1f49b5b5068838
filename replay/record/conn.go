package record

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/cardswitch/cardswitch/iso"
)

// conn is one client and its upstream connection.
type conn struct {
	p        *Proxy
	client   net.Conn
	mu       sync.Mutex
	upstream net.Conn
	closed   bool
	pending  map[matchKey][]*entry // awaited responses, oldest first per key
}

// matchKey is a response's MTI and STAN.
type matchKey struct {
	mti  [4]byte
	stan string
}

func (c *conn) serve() {
	log := c.p.opts.Log.With("client", c.client.RemoteAddr().String())
	up, err := net.DialTimeout("tcp", c.p.opts.Upstream, c.p.opts.DialTimeout)
	if err != nil {
		log.Warn("upstream unreachable, client disconnected", "err", err)
		_ = c.client.Close()
		return
	}
	if !c.attach(up) {
		_ = up.Close()
		return
	}
	log.Debug("client connected")
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := c.pipe(c.client, up, c.request)
		tc, ok := up.(*net.TCPConn)
		if !errors.Is(err, io.EOF) || !ok {
			c.close()
			return
		}
		// The client is done sending: pass the half-close on so that the
		// answers to its last requests still come back, for a while.
		_ = tc.CloseWrite()
		_ = up.SetReadDeadline(time.Now().Add(c.p.opts.AnswerWait))
	}()
	_ = c.pipe(up, c.client, c.response)
	c.close()
	<-done
	c.abandon()
	log.Debug("client disconnected")
}

// attach sets the upstream connection unless close came first.
func (c *conn) attach(up net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = c.client.Close()
		return false
	}
	c.upstream = up
	c.pending = map[matchKey][]*entry{}
	return true
}

// pipe copies frames from src to dst unchanged, showing each frame to tap
// before it is forwarded. It returns when either side fails or ends:
// io.EOF when src ended cleanly between frames.
//
// Frames are read and written with the dialect's framing, the header
// (TPDU) passed on as it came; the tap sees the message in its text form.
func (c *conn) pipe(src, dst net.Conn, tap func([]byte, *iso.View, time.Time)) error {
	f := c.p.opts.Dialect.Framing
	fr := iso.NewFramedReader(src, f, iso.MaxFrameLen)
	var v iso.View
	for {
		hdr, msg, err := fr.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) && !c.isClosed() {
				c.p.opts.Log.Debug("connection ended", "err", err)
			}
			return err
		}
		// The tap runs first: a request must be awaiting its response
		// before the upstream can possibly answer it.
		if text, err := c.p.codec.ToText(msg); err == nil {
			tap(text, &v, time.Now())
		} else {
			// The error names a field, never a value.
			c.p.opts.Log.Warn("frame not recorded: it does not decode in the dialect", "err", err)
		}
		if err := f.WriteFramed(dst, hdr, msg); err != nil {
			return err
		}
	}
}

// request records a client request.
func (c *conn) request(frame []byte, v *iso.View, now time.Time) {
	_ = c.p.scanner.ScanLenient(frame, v)
	if !v.Has(0) || !iso.IsRequestMTI(v.MTI()) {
		return
	}
	msg, err := c.p.recordable(frame)
	if err != nil {
		// moov's unpack error may quote field values: log the MTI only.
		c.p.opts.Log.Warn("request not recorded: it does not unpack", "mti", string(v.MTI()))
		return
	}
	e := c.p.journal.add(msg, now)
	k := matchKey{mti: iso.ResponseMTI(v.MTI()), stan: string(v.Field(11))}
	c.mu.Lock()
	c.pending[k] = append(c.pending[k], e)
	c.mu.Unlock()
}

// response gives a request its expected code.
func (c *conn) response(frame []byte, v *iso.View, _ time.Time) {
	_ = c.p.scanner.ScanLenient(frame, v)
	if !v.Has(0) {
		return
	}
	var k matchKey
	copy(k.mti[:], v.MTI())
	k.stan = string(v.Field(11))
	c.mu.Lock()
	q := c.pending[k]
	if len(q) == 0 {
		c.mu.Unlock()
		return
	}
	e := q[0]
	if len(q) == 1 {
		delete(c.pending, k)
	} else {
		c.pending[k] = q[1:]
	}
	c.mu.Unlock()
	c.p.journal.resolve(e, string(v.Field(39)))
}

// abandon writes the requests that got no response.
func (c *conn) abandon() {
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, q := range pending {
		for _, e := range q {
			c.p.journal.resolve(e, "")
		}
	}
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// close closes both sides; the pipes then end.
func (c *conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	_ = c.client.Close()
	if c.upstream != nil {
		_ = c.upstream.Close()
	}
}
