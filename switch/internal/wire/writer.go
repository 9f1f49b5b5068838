// Package wire holds the write side shared by acquirer connections and issuer
// links: frames are appended to an in-memory batch by any goroutine and
// the whole batch goes on the socket in one Write. Under load this
// coalesces many frames into one syscall; when idle each frame goes out at
// once (there is no timer, so no added latency). A batch goes out from the
// writer goroutine (Run), or, for a burst queued with QueueHeld to a
// Direct Held, from the goroutine that queued it, when no write is under
// way and the socket takes it without waiting (Held.Wake): one goroutine
// hand-over less per burst, and never a wait on a slow peer.
package wire

import (
	"errors"
	"io"
	"sync"
)

var (
	// ErrClosed is returned by Queue after Close.
	ErrClosed = errors.New("writer closed")
	// ErrBacklog is returned by Queue when the peer does not read fast
	// enough and the unsent bytes would exceed the writer's limit. The
	// caller closes the connection: buffering without bound would let one
	// slow peer exhaust the switch's memory.
	ErrBacklog = errors.New("write backlog limit exceeded")
)

// shrinkAbove: a batch buffer grown past this by a burst is released once
// traffic is back to normal, so a connection does not keep its peak.
const shrinkAbove = 256 << 10

// Writer batches length-prefixed frames for one connection.
type Writer struct {
	w     io.Writer
	limit int

	gate func(ticket uint64) // Run: before a batch whose frames carry a ticket goes out (SetGate)

	// direct writes (Held.Wake), on sockets only; nil: Run writes all.
	direct *directWriter

	mu      sync.Mutex
	pending []byte // frames queued since the last write
	spare   []byte // the last batch's buffer, pending's next
	ticket  uint64 // the highest ticket of the frames in pending
	closed  bool
	err     error // first write error; sticky
	// busy: a batch is being written, by Run or directly; whoever sets it
	// writes, and Run writes what pending holds after.
	busy bool
	// rest is what a direct write left to Run: the socket took only part
	// of its batch. busy stays set until Run has written it.
	rest []byte

	wake chan struct{} // capacity 1: "pending is not empty or closed"
	done chan struct{} // closed when Run returns
}

// NewWriter returns a Writer for w that refuses to hold more than limit
// unsent bytes.
func NewWriter(w io.Writer, limit int) *Writer {
	return &Writer{
		w:      w,
		limit:  limit,
		direct: newDirectWriter(w),
		// pending is allocated on first use: thousands of idle
		// connections should not each hold a buffer.
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
}

// SetGate makes Run call gate with the highest ticket of a batch's frames
// (QueueAfter) before it writes the batch: the switch commits the journal
// entries of the answers there, so one log write covers every answer of
// the batch and no answer goes out before its entry is durable. Call it
// before Run.
func (w *Writer) SetGate(gate func(ticket uint64)) { w.gate = gate }

// Queue appends one frame (2-byte big-endian length, then body) to the
// batch. body is copied; the caller may reuse it as soon as Queue returns.
func (w *Writer) Queue(body []byte) error { return w.QueueAfter(body, 0) }

// QueueAfter is Queue for a frame that must not go out before the gate
// has passed ticket (0: no condition). A batch waits for the highest
// ticket among its frames, which covers the lower ones.
func (w *Writer) QueueAfter(body []byte, ticket uint64) error {
	if err := w.queue(body, ticket); err != nil {
		return err
	}
	w.wakeUp()
	return nil
}

// QueueHeld is QueueAfter without waking the writer: h notes w, and the
// frame goes out once h.Wake is called (or sooner, with a batch another
// caller woke the writer for). A goroutine that handles a burst of frames
// read in one go queues them all this way and wakes their writers once
// done, so that the burst goes out in one write per connection; woken at
// its first frame, a writer would take that frame alone, then the rest:
// more writes, more syscalls per frame, and, for a host that answers
// only what it has read, a burst answered in pieces.
func (w *Writer) QueueHeld(body []byte, ticket uint64, h *Held) error {
	if err := w.queue(body, ticket); err != nil {
		return err
	}
	h.add(w)
	return nil
}

// queue appends one frame to the batch, unless the writer is closed,
// failed, or over its backlog limit.
func (w *Writer) queue(body []byte, ticket uint64) error {
	w.mu.Lock()
	switch {
	case w.closed:
		w.mu.Unlock()
		return ErrClosed
	case w.err != nil:
		err := w.err
		w.mu.Unlock()
		return err
	case len(w.pending)+len(body)+2 > w.limit:
		w.mu.Unlock()
		return ErrBacklog
	}
	w.pending = append(w.pending, byte(len(body)>>8), byte(len(body)))
	w.pending = append(w.pending, body...)
	w.ticket = max(w.ticket, ticket)
	w.mu.Unlock()
	return nil
}

// wakeUp tells Run there is something to write (or that w is closed).
func (w *Writer) wakeUp() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run writes batches until Close, then writes what is left and returns.
// It returns the first write error (after which Queue fails too).
func (w *Writer) Run() error {
	defer close(w.done)
	for range w.wake {
		if done, err := w.drain(); done {
			return err
		}
	}
	return nil
}

// drain writes until nothing is pending; done: Run returns (w is closed
// and everything written, or a write failed).
func (w *Writer) drain() (done bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		switch {
		case w.err != nil:
			return true, w.err
		case w.rest != nil: // a direct write's remainder: busy is set for Run
			rest := w.rest
			w.rest = nil
			w.mu.Unlock()
			_, err = w.w.Write(rest)
			w.mu.Lock()
			w.busy = false
		case w.busy: // a direct write is under way; its writer wakes Run after
			return false, nil
		case len(w.pending) == 0:
			return w.closed, nil
		default:
			w.busy = true
			batch, ticket := w.take()
			w.mu.Unlock()
			if ticket != 0 && w.gate != nil {
				w.gate(ticket)
			}
			_, err = w.w.Write(batch)
			w.mu.Lock()
			w.busy = false
			w.recycle(batch)
		}
		if err != nil {
			w.err = err
			return true, err
		}
	}
}

// take takes the pending batch and its ticket. w.mu held.
func (w *Writer) take() (batch []byte, ticket uint64) {
	batch, ticket = w.pending, w.ticket
	w.pending, w.spare, w.ticket = w.spare[:0], nil, 0
	return batch, ticket
}

// recycle keeps a written batch's buffer for the next batch, unless a
// burst grew it and the burst is over: then it is given back. w.mu held.
func (w *Writer) recycle(batch []byte) {
	if cap(batch) > shrinkAbove && len(batch) < shrinkAbove/4 {
		return
	}
	w.spare = batch[:0]
}

// flush writes the pending batch from the caller's goroutine if no write
// is under way and the socket takes it without waiting; anything else
// (a write under way, a socket that takes only part, no socket) is left
// to Run, woken for it.
func (w *Writer) flush() {
	w.mu.Lock()
	if w.direct == nil || w.busy || len(w.pending) == 0 || w.err != nil || w.closed {
		w.mu.Unlock()
		w.wakeUp()
		return
	}
	w.busy = true
	batch, ticket := w.take()
	w.mu.Unlock()
	if ticket != 0 && w.gate != nil {
		w.gate(ticket)
	}
	n, err := w.direct.write(batch)
	w.mu.Lock()
	switch {
	case err != nil:
		w.busy = false
		if w.err == nil {
			w.err = err
		}
	case n < len(batch):
		w.rest = batch[n:] // busy stays set: Run writes the rest first
	default:
		w.busy = false
		w.recycle(batch)
	}
	wake := w.rest != nil || len(w.pending) > 0 || w.err != nil || w.closed
	w.mu.Unlock()
	if wake {
		w.wakeUp()
	}
}

// Close stops accepting frames; Run flushes what was queued and returns.
// Close does not wait; use Done for that.
func (w *Writer) Close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.wakeUp()
}

// Done is closed when Run has returned.
func (w *Writer) Done() <-chan struct{} { return w.done }

// Held is the writers one goroutine queued frames to with QueueHeld and
// has not woken yet. It belongs to that goroutine; the zero Held is ready.
type Held struct {
	ws []*Writer
	// Direct: Wake writes from the caller's goroutine when it can
	// (flush); false: Wake hands every batch to the writer's Run. Direct
	// suits writers fed by few goroutines (an acquirer connection's, fed
	// by its issuers' link readers): handing over costs a wake-up and
	// would gain little coalescing. A writer that many goroutines feed (an
	// issuer link's, fed by every acquirer connection's reader) coalesces
	// their bursts while its Run is being woken: written directly, each
	// burst took its own write (the lean bench: 0.30 syscalls per
	// transaction, against 0.22 handed over and 0.19 before bursts).
	Direct bool
}

// add notes w once.
func (h *Held) add(w *Writer) {
	for _, x := range h.ws {
		if x == w {
			return
		}
	}
	h.ws = append(h.ws, w)
}

// Wake sends what every writer noted since the last Wake holds: with
// Direct, each from the caller's goroutine if the writer is idle and its
// socket takes the batch at once, else (and without Direct) from its Run.
// Waking a writer that closed meanwhile is harmless.
func (h *Held) Wake() {
	for i, w := range h.ws {
		if !h.Direct {
			w.wakeUp()
		} else {
			w.flush()
		}
		h.ws[i] = nil
	}
	h.ws = h.ws[:0]
}
