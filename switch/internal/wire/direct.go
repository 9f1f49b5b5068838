package wire

import (
	"errors"
	"fmt"
)

// Direct writes (an experiment, selected by CARDSWITCH_WIRE_DIRECT so
// that one binary can be benchmarked both ways): a held burst is written
// by the goroutine that wakes it (Held.Wake) when its writer allows it
// (SetDirect), no write is under way on the connection and the socket
// takes the batch at once, saving the hand-over to the writer goroutine
// that socat and a plain Go relay do not pay. Whatever the socket does not
// take at once is left to Run, which writes it before anything queued
// after it: a reader never waits on a slow peer and frames keep their
// order. A batch holding a vetted frame (QueueVetted) always goes through
// Run, which asks the vet after the gate.

// Direct says which held bursts are written by the goroutine that queued
// them (ParseDirect). The zero Direct is "off": every batch is written by
// the writer goroutine.
type Direct uint8

const (
	// DirectRequests: an acquirer connection's reader writes its burst to
	// the issuer link (the link's writer has SetDirect).
	DirectRequests Direct = 1 << iota
	// DirectAnswers: an issuer link's reader writes the answers it read
	// to the acquirer connections (their writers have SetDirect).
	DirectAnswers
	// DirectOne: a link reader that woke several acquirer connections'
	// writers for one read writes only the last one itself, after waking
	// the others' writer goroutines (Held.One): they write in parallel
	// with it, where one reader writing each in turn serialised a single
	// link's answers to every acquirer.
	DirectOne
)

// directNames are CARDSWITCH_WIRE_DIRECT's values.
var directNames = []struct {
	name string
	d    Direct
}{
	{"off", 0},
	{"req", DirectRequests},
	{"ans", DirectAnswers},
	{"both", DirectRequests | DirectAnswers},
	{"ans1", DirectAnswers | DirectOne},
	{"both1", DirectRequests | DirectAnswers | DirectOne},
}

// ErrDirect is the error of a CARDSWITCH_WIRE_DIRECT value ParseDirect
// does not know.
var ErrDirect = errors.New("unknown direct-write variant (want off, req, ans, both, ans1 or both1)")

// ParseDirect reads a CARDSWITCH_WIRE_DIRECT value: off (or empty), req,
// ans, both, ans1 or both1.
func ParseDirect(s string) (Direct, error) {
	if s == "" {
		return 0, nil
	}
	for _, n := range directNames {
		if n.name == s {
			return n.d, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrDirect, s)
}

// String is d's CARDSWITCH_WIRE_DIRECT value.
func (d Direct) String() string {
	for _, n := range directNames {
		if n.d == d {
			return n.name
		}
	}
	return fmt.Sprintf("Direct(%d)", uint8(d))
}

// SetDirect lets Held.Wake write w's held batches from its caller's
// goroutine. Only a socket (TCP or Unix) can be written without waiting:
// for anything else (TLS, pipes) it does nothing. Call it before Run.
func (w *Writer) SetDirect() { w.direct = newDirectWriter(w.w) }

// flush writes the pending batch from the caller's goroutine if w allows
// it, no write is under way, the batch has no vetted frame and the socket
// takes it without waiting; everything else (and what the socket did not
// take) is left to Run, woken for it.
func (w *Writer) flush() {
	if w.direct == nil {
		w.wakeUp()
		return
	}
	w.mu.Lock()
	if w.busy || len(w.pending) == 0 || len(w.vetted) > 0 || w.err != nil || w.closed {
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
		w.rest, w.restOff = batch, n // busy stays set: Run writes the rest first
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

// runDirect is Run for a writer with SetDirect: batches are written here
// or by flush, one at a time (busy).
func (w *Writer) runDirect() error {
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
		case w.rest != nil: // what a direct write left: busy is set for Run
			rest, off := w.rest, w.restOff
			w.rest, w.restOff = nil, 0
			w.mu.Unlock()
			_, err = w.w.Write(rest[off:])
			w.mu.Lock()
			w.busy = false
			w.recycle(rest)
		case w.busy: // a direct write is under way; its writer wakes Run after
			return false, nil
		case len(w.pending) == 0:
			return w.closed, nil
		default:
			err = w.writeBatch()
		}
		if err != nil {
			w.err = err
			return true, err
		}
	}
}

// writeBatch takes the pending batch and writes it, gate and vet first.
// w.mu held on entry and on return, released in between.
func (w *Writer) writeBatch() error {
	w.busy = true
	batch, ticket := w.take()
	vets := w.vetted
	w.vetted, w.vetSpare = w.vetSpare[:0], nil
	w.mu.Unlock()
	if ticket != 0 && w.gate != nil {
		w.gate(ticket)
	}
	out := batch
	if len(vets) > 0 && w.vet != nil {
		out = w.drop(batch, vets)
	}
	var err error
	if len(out) > 0 {
		_, err = w.w.Write(out)
	}
	w.mu.Lock()
	w.busy = false
	w.recycle(batch)
	w.vetSpare = vets[:0]
	return err
}
