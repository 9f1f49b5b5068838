package replay

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// Send-path failures; each counts as one error.
var (
	errConnDown = errors.New("connection down")
	errBacklog  = errors.New("write backlog full")
	errNoSTAN   = errors.New("no free STAN on the connection")
	errDupSTAN  = errors.New("STAN already in flight on the connection (rewrite is off)")
)

// maxSTAN is the highest STAN; 0 is never used.
const maxSTAN = 999_999

// conn is one persistent connection to the target: the send path appends
// patched frames to buf under mu, one writer goroutine writes each batch
// in one syscall, one reader goroutine matches responses by STAN.
type conn struct {
	r   *runner
	id  int
	nc  net.Conn
	rec *recorder

	mu       sync.Mutex
	pend     map[uint32]pending
	deadl    deadlineQueue
	nextSTAN uint32
	buf      []byte // frames queued since the last write
	xbuf     []byte // a request translated into the dialect (Options.Translate)
	dead     bool
	dtSec    int64 // second dt was rendered for
	dt       [dateTimeLen]byte

	wake chan struct{} // capacity 1: buf is not empty, or the conn died
}

func dialConn(r *runner, id int) (*conn, error) {
	d := &net.Dialer{Timeout: r.opt.DialTimeout}
	target := r.opt.Target
	if n := len(r.opt.Targets) + 1; id%n > 0 {
		target = r.opt.Targets[id%n-1]
	}
	var nc net.Conn
	var err error
	if r.opt.TLS != nil {
		nc, err = tls.DialWithDialer(d, "tcp", target, r.opt.TLS)
	} else {
		nc, err = d.Dial("tcp", target)
	}
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok { // TLS sets no delay on its own connection
		_ = tc.SetNoDelay(true)
	}
	return &conn{
		r: r, id: id, nc: nc, rec: newRecorder(r.opt.MaxFailures),
		pend: make(map[uint32]pending, 1024), nextSTAN: 1, dtSec: -1,
		buf: make([]byte, 0, 64<<10), wake: make(chan struct{}, 1),
	}, nil
}

// send queues template ti as request number seq, rewriting 7, 11 and 37
// in the queued copy. It never blocks on the network.
func (c *conn) send(ti int, seq uint64, intended int64, warm bool) error {
	t := &c.r.tmpl[ti]
	wall := time.Now()
	now := wall.Sub(c.r.start).Nanoseconds()
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return errConnDown
	}
	if len(c.buf)+len(t.frame)+maxEnvelope > writeBatchLimit {
		c.mu.Unlock()
		return errBacklog
	}
	stan, err := c.allocSTAN(t)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	p := pending{seq: seq, intended: intended, tmpl: int32(ti), warm: warm} // #nosec G115 -- template count fits int32
	start, at, err := c.beginRequest(t)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	if !c.r.opt.NoRewrite {
		body := c.buf[at:]
		putDigits(body[t.offSTAN:t.offSTAN+stanLen], uint64(stan))
		if t.offRRN >= 0 {
			p.rrn = c.r.nextRRN()
			putDigits(body[t.offRRN:t.offRRN+rrnLen], p.rrn)
		}
		if t.offDT >= 0 {
			copy(body[t.offDT:t.offDT+dateTimeLen], c.dateTime(wall))
		}
	}
	if err := c.finishRequest(start); err != nil {
		c.mu.Unlock()
		return err
	}
	c.pend[stan] = p
	c.deadl.push(deadline{seq: seq, at: now + c.r.opt.Timeout.Nanoseconds(), stan: stan})
	c.mu.Unlock()
	c.signal()
	return nil
}

// allocSTAN picks the STAN for the next request: the next free one in a
// wrapping sequence, or the template's own when rewriting is off.
func (c *conn) allocSTAN(t *template) (uint32, error) {
	if c.r.opt.NoRewrite {
		if _, busy := c.pend[t.stan]; busy {
			return 0, errDupSTAN
		}
		return t.stan, nil
	}
	for range maxSTAN {
		s := c.nextSTAN
		c.nextSTAN = c.nextSTAN%maxSTAN + 1
		if _, busy := c.pend[s]; !busy {
			return s, nil
		}
	}
	return 0, errNoSTAN
}

// dateTime renders field 7 (MMDDhhmmss, UTC) once per second.
func (c *conn) dateTime(wall time.Time) []byte {
	if sec := wall.Unix(); sec != c.dtSec {
		c.dtSec = sec
		u := wall.UTC()
		putDigits(c.dt[0:2], uint64(u.Month()))
		putDigits(c.dt[2:4], uint64(u.Day()))    // #nosec G115
		putDigits(c.dt[4:6], uint64(u.Hour()))   // #nosec G115
		putDigits(c.dt[6:8], uint64(u.Minute())) // #nosec G115
		putDigits(c.dt[8:10], uint64(u.Second()))
	}
	return c.dt[:]
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// writeLoop writes whatever accumulated while the previous write was in
// progress in one syscall: coalescing without a timer, so an idle
// connection adds no latency.
func (c *conn) writeLoop() {
	var batch []byte
	for {
		select {
		case <-c.wake:
		case <-c.r.closing:
			return
		}
		c.mu.Lock()
		batch, c.buf = c.buf, batch[:0]
		dead := c.dead
		c.mu.Unlock()
		if dead {
			return
		}
		if len(batch) == 0 {
			continue
		}
		if _, err := c.nc.Write(batch); err != nil {
			c.fail()
			return
		}
	}
}

// fail marks the connection dead and fails every request in flight on it.
func (c *conn) fail() {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.dead = true
	lost := make([]pending, 0, len(c.pend))
	for _, p := range c.pend {
		lost = append(lost, p)
	}
	clear(c.pend)
	c.deadl.clear()
	c.mu.Unlock()
	_ = c.nc.Close()
	c.signal()
	if c.r.isClosing() {
		// The run is over: requests still in flight are abandoned, not
		// errors. Counting them here, where they leave the pending map,
		// keeps sent = answered + timeouts + errors + abandoned exact.
		for _, p := range lost {
			if !p.warm {
				c.r.abandoned.Add(1)
			}
		}
		return
	}
	c.r.connFailed()
	for _, p := range lost {
		c.finishErr(p)
	}
}

// finishErr completes p as an error.
func (c *conn) finishErr(p pending) {
	if !p.warm {
		c.rec.count(&c.rec.errors, 1)
		c.r.noteError()
	}
	c.r.complete(c)
}
