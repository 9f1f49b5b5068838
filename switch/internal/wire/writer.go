// Package wire holds the write side shared by acquirer connections and issuer
// links: frames are appended to an in-memory batch by any goroutine and a
// single writer goroutine puts the whole batch on the socket in one Write.
// Under load this coalesces many frames into one syscall; when idle each
// frame goes out at once (there is no timer, so no added latency). A writer
// with SetDirect may instead have a held burst written by the goroutine
// that wakes it (direct.go).
package wire

import (
	"errors"
	"io"
	"sync"

	"github.com/cardswitch/cardswitch/iso"
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

	gate func(ticket uint64)  // Run: before a batch whose frames carry a ticket goes out (SetGate)
	vet  func(id uint64) bool // Run: after the gate, whether a vetted frame is dropped (SetVet)

	// framing is how frames go out when framed (SetFraming); otherwise a
	// 2-byte binary length and no header, on a path of its own.
	framing iso.Framing
	framed  bool
	extra   int // bytes of framing around a body: length header + header

	mu      sync.Mutex
	pending []byte   // frames queued since the last write
	ticket  uint64   // the highest ticket of the frames in pending
	vetted  []vetted // the frames of pending queued with QueueVetted, in order
	closed  bool
	err     error // first write error; sticky

	// With SetDirect (direct.go); otherwise unused.
	direct   *directWriter // nil: Run writes every batch
	spare    []byte        // the last batch's buffer, pending's next
	vetSpare []vetted      // the last batch's vetted, vetted's next
	// busy: a batch is being written, by Run or directly (flush); whoever
	// set it writes, and Run writes what pending holds after.
	busy bool
	// rest[restOff:] is what a direct write left to Run: the socket took
	// only part of its batch. busy stays set until Run has written it.
	rest    []byte
	restOff int

	wake chan struct{} // capacity 1: "pending is not empty or closed"
	done chan struct{} // closed when Run returns
}

// NewWriter returns a Writer for w that refuses to hold more than limit
// unsent bytes.
func NewWriter(w io.Writer, limit int) *Writer {
	return &Writer{
		w:     w,
		limit: limit,
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

// SetVet makes Run ask drop, once the gate has passed, about each frame
// queued with QueueVetted: true leaves it out of the batch (the switch
// drops a request whose duplicate claim the journal's write refused; the
// claim is only known once that write committed, which is what the gate
// waits for). drop is called without the writer's lock, in queue order.
// Call it before Run.
func (w *Writer) SetVet(drop func(id uint64) bool) { w.vet = drop }

// vetted is a frame of a batch that SetVet's function may drop: its
// bytes and its caller's id.
type vetted struct {
	start, end int
	id         uint64
}

// SetFraming makes the writer frame with f (iso.Framing.AppendFrame)
// instead of a 2-byte binary length. Call it before Run.
func (w *Writer) SetFraming(f iso.Framing) {
	w.framing, w.extra = f, f.Length.Size()+f.HeaderLen()
	w.framed = f.Length != iso.LengthBinary2 || f.Header != iso.HeaderNone
}

// QueueFramed is QueueAfter with the frame's header (a TPDU; nil: the
// configured fixed header) for a writer with SetFraming. A frame its
// framing cannot carry (too long for the length header, a header of the
// wrong size) returns the *iso.FramingError and nothing is queued.
func (w *Writer) QueueFramed(hdr, body []byte, ticket uint64) error {
	return w.QueueFramedHeld(hdr, body, ticket, nil)
}

// Queue appends one frame (2-byte big-endian length, then body) to the
// batch. body is copied; the caller may reuse it as soon as Queue returns.
func (w *Writer) Queue(body []byte) error { return w.QueueAfter(body, 0) }

// QueueAfter is Queue for a frame that must not go out before the gate
// has passed ticket (0: no condition). A batch waits for the highest
// ticket among its frames, which covers the lower ones. With SetFraming it
// frames as QueueFramed with the configured header.
func (w *Writer) QueueAfter(body []byte, ticket uint64) error {
	return w.QueueFramedHeld(nil, body, ticket, nil)
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
	return w.QueueFramedHeld(nil, body, ticket, h)
}

// QueueFramedHeld is QueueFramed held in h as QueueHeld (h nil: the
// writer is woken as by QueueFramed). Every Queue variant comes here, so
// a framed writer (a TPDU, an ASCII length) takes part in bursts exactly
// as a plain one does.
func (w *Writer) QueueFramedHeld(hdr, body []byte, ticket uint64, h *Held) error {
	return w.QueueVetted(hdr, body, ticket, 0, h)
}

// QueueVetted is QueueFramedHeld for a frame that SetVet's function is
// asked about, by id, before its batch goes out (id 0: not asked).
func (w *Writer) QueueVetted(hdr, body []byte, ticket, id uint64, h *Held) error {
	var err error
	if w.framed {
		err = w.queueFramed(hdr, body, ticket, id)
	} else {
		err = w.queue(body, ticket, id)
	}
	if err != nil {
		return err
	}
	if h == nil {
		w.wakeUp()
	} else {
		h.add(w)
	}
	return nil
}

// admit says why no frame of n more bytes may join the batch (nil: it
// may). Called with mu held.
func (w *Writer) admit(n int) error {
	switch {
	case w.closed:
		return ErrClosed
	case w.err != nil:
		return w.err
	case len(w.pending)+n > w.limit:
		return ErrBacklog
	}
	return nil
}

// queue appends one frame with a 2-byte binary length to the batch.
func (w *Writer) queue(body []byte, ticket, id uint64) error {
	w.mu.Lock()
	if err := w.admit(len(body) + 2); err != nil {
		w.mu.Unlock()
		return err
	}
	start := len(w.pending)
	w.pending = append(w.pending, byte(len(body)>>8), byte(len(body)))
	w.pending = append(w.pending, body...)
	w.ticket = max(w.ticket, ticket)
	if id != 0 {
		w.vetted = append(w.vetted, vetted{start: start, end: len(w.pending), id: id})
	}
	w.mu.Unlock()
	return nil
}

// queueFramed appends one frame in the configured framing to the batch.
func (w *Writer) queueFramed(hdr, body []byte, ticket, id uint64) error {
	w.mu.Lock()
	if err := w.admit(len(body) + w.extra); err != nil {
		w.mu.Unlock()
		return err
	}
	start := len(w.pending)
	var err error
	if w.pending, err = w.framing.AppendFrame(w.pending, hdr, body); err != nil {
		w.mu.Unlock()
		return err
	}
	w.ticket = max(w.ticket, ticket)
	if id != 0 {
		w.vetted = append(w.vetted, vetted{start: start, end: len(w.pending), id: id})
	}
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
	if w.direct != nil {
		return w.runDirect()
	}
	defer close(w.done)
	var batch []byte
	var vets []vetted
	for range w.wake {
		w.mu.Lock()
		batch, w.pending = w.pending, batch[:0]
		vets, w.vetted = w.vetted, vets[:0]
		ticket := w.ticket
		w.ticket = 0
		closed := w.closed
		w.mu.Unlock()
		if ticket != 0 && w.gate != nil {
			w.gate(ticket)
		}
		if len(vets) > 0 && w.vet != nil {
			batch = w.drop(batch, vets)
		}
		if len(batch) > 0 {
			if _, err := w.w.Write(batch); err != nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
				return err
			}
		}
		if closed {
			return nil
		}
		if cap(batch) > shrinkAbove && len(batch) < shrinkAbove/4 {
			batch = nil // a burst is over: give its buffer back
		}
	}
	return nil
}

// drop removes from batch the vetted frames the vet function drops,
// in place.
func (w *Writer) drop(batch []byte, vets []vetted) []byte {
	n, from := 0, 0 // batch[:n] is kept; batch[from:] not yet looked at
	for _, v := range vets {
		if w.vet(v.id) {
			n += copy(batch[n:], batch[from:v.start])
			from = v.end
		}
	}
	if from == 0 {
		return batch
	}
	n += copy(batch[n:], batch[from:])
	return batch[:n]
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
	// One: Wake writes directly (SetDirect) to the last writer noted only;
	// the others' Runs are woken first, and write in parallel with it.
	One bool
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

// Wake sends what every writer noted since the last Wake holds: from the
// caller's goroutine for a writer with SetDirect when it can (flush; with
// One, for the last writer only), else from the writer's Run, woken.
// Waking a writer that closed meanwhile is harmless.
func (h *Held) Wake() {
	last := len(h.ws) - 1
	for i, w := range h.ws {
		if h.One && i < last {
			w.wakeUp()
		} else {
			w.flush()
		}
		h.ws[i] = nil
	}
	h.ws = h.ws[:0]
}
