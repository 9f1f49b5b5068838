package replay

import (
	"context"
	"time"
)

// schedule sends requests until Count, Duration, MaxErrors or ctx says
// stop. In open-loop modes it returns when the last request is queued; in
// closed-loop mode right after priming (completions send the rest).
func (r *runner) schedule(ctx context.Context) {
	go func() {
		select {
		case <-ctx.Done():
			r.stopEarly("interrupted")
		case <-r.stopCh:
		}
	}()
	if r.opt.mode() == ModeClosed {
		if r.opt.Duration > 0 {
			t := time.AfterFunc(r.opt.Duration, r.stop)
			go func() { <-r.stopCh; t.Stop() }()
		}
		for i := range r.opt.Concurrency {
			if !r.sendNext(r.conns[i%len(r.conns)]) {
				break
			}
		}
		return
	}
	r.pace()
	r.stop()
}

// pace is the open-loop scheduler: each request has an intended send time
// and is sent at it, or at once if that time already passed (the target
// or this process fell behind). Latency counts from the intended time.
func (r *runner) pace() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		seq := r.seq.Add(1) - 1
		if r.opt.Count > 0 && seq >= uint64(r.opt.Count) {
			return
		}
		intended := r.intendedAt(seq)
		if r.opt.Duration > 0 && intended >= r.opt.Duration.Nanoseconds() {
			return
		}
		if wait := intended - r.now(); wait > 0 {
			timer.Reset(time.Duration(wait))
			select {
			case <-timer.C:
			case <-r.stopCh:
				return
			}
		} else if r.stopped.Load() {
			return
		}
		r.dispatch(seq, intended, r.conns[r.rr.Add(1)%uint64(len(r.conns))])
	}
}

// intendedAt is request seq's planned send time in ns since the start.
// Recorded timing loops the trace: pass k starts one trace span (last
// offset plus one average gap) after pass k-1.
func (r *runner) intendedAt(seq uint64) int64 {
	if r.opt.Rate > 0 {
		return int64(float64(seq) * 1e9 / r.opt.Rate)
	}
	n := uint64(len(r.tmpl))
	pass, i := seq/n, seq%n
	last := r.tmpl[n-1].at
	span := last + max(last/time.Duration(max(n-1, 1)), time.Millisecond)
	at := time.Duration(pass)*span + r.tmpl[i].at // #nosec G115
	return int64(float64(at) / r.opt.Speed)
}

// sendNext sends the next closed-loop request on c (or another live
// connection); false once the run should send no more.
func (r *runner) sendNext(c *conn) bool {
	if r.stopped.Load() {
		return false
	}
	seq := r.seq.Add(1) - 1
	now := r.now()
	if (r.opt.Count > 0 && seq >= uint64(r.opt.Count)) || (r.opt.Duration > 0 && now >= r.opt.Duration.Nanoseconds()) {
		r.stop()
		return false
	}
	return r.dispatch(seq, now, c)
}

// dispatch queues request seq on c, falling over to the next connection
// when c is down. A request that cannot be queued counts as an error.
func (r *runner) dispatch(seq uint64, intended int64, c *conn) bool {
	ti := int(seq % uint64(len(r.tmpl))) // #nosec G115
	warm := intended < r.opt.Warmup.Nanoseconds()
	r.inflight.Add(1)
	for range r.conns {
		err := c.send(ti, seq, intended, warm)
		if err == nil {
			if warm {
				r.warmSent.Add(1)
			} else {
				r.sent.Add(1)
			}
			return true
		}
		if err != errConnDown {
			break
		}
		c = r.conns[(c.id+1)%len(r.conns)]
	}
	if !warm {
		r.sendErrs.Add(1)
		r.noteError()
	}
	r.release()
	return false
}

// release drops one request from the in-flight count. Reaching zero ends
// the run once sending stopped, and in closed-loop mode always: no
// request is left to send the next one.
func (r *runner) release() {
	if r.inflight.Add(-1) == 0 && (r.stopped.Load() || r.opt.mode() == ModeClosed) {
		r.stop()
	}
}
