package wire

import (
	"io"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingWriter records each Write call.
type countingWriter struct {
	mu     sync.Mutex
	writes [][]byte
	// If set, each Write announces itself on entered and waits on release.
	entered, release chan struct{}
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.entered != nil {
		w.entered <- struct{}{}
		<-w.release
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, append([]byte(nil), p...))
	return len(p), nil
}

func TestQueuedFramesAreLengthPrefixedAndFlushedOnClose(t *testing.T) {
	cw := &countingWriter{}
	w := NewWriter(cw, 1<<20)
	require.NoError(t, w.Queue([]byte("abc")))
	require.NoError(t, w.Queue([]byte{}))
	w.Close()
	require.NoError(t, w.Run())
	var all []byte
	for _, b := range cw.writes {
		all = append(all, b...)
	}
	assert.Equal(t, []byte{0, 3, 'a', 'b', 'c', 0, 0}, all)
	assert.ErrorIs(t, w.Queue([]byte("x")), ErrClosed)
}

// Frames queued while a write is in progress go out together in one Write.
func TestFramesQueuedDuringAWriteAreCoalesced(t *testing.T) {
	cw := &countingWriter{entered: make(chan struct{}), release: make(chan struct{})}
	w := NewWriter(cw, 1<<20)
	go func() { _ = w.Run() }()
	require.NoError(t, w.Queue([]byte("first")))
	<-cw.entered // the first Write is underway and held...
	for i := 0; i < 100; i++ {
		require.NoError(t, w.Queue([]byte("more"))) // ...while more queue behind it
	}
	w.Close()
	cw.release <- struct{}{}
	<-cw.entered
	cw.release <- struct{}{}
	<-w.Done()
	require.Len(t, cw.writes, 2, "100 frames in one write")
	assert.Len(t, cw.writes[1], 100*6)
}

func TestBacklogLimit(t *testing.T) {
	w := NewWriter(io.Discard, 10)
	require.NoError(t, w.Queue([]byte("12345678"))) // 10 bytes with the header
	assert.ErrorIs(t, w.Queue([]byte("x")), ErrBacklog)
}

func TestWriteErrorIsSticky(t *testing.T) {
	a, b := net.Pipe()
	_ = b.Close()
	w := NewWriter(a, 1<<20)
	require.NoError(t, w.Queue([]byte("x")))
	err := w.Run()
	require.Error(t, err)
	assert.ErrorIs(t, w.Queue([]byte("y")), err, "the write error is sticky")
}

// TestGateHoldsTicketedFrames: a batch with ticketed frames goes out only
// after the gate returned, called once with the batch's highest ticket; a
// batch without tickets does not call it.
func TestGateHoldsTicketedFrames(t *testing.T) {
	cw := &countingWriter{}
	w := NewWriter(cw, 1<<20)
	gated := make(chan uint64, 2) // room for a wrong second call: the test fails instead of hanging
	pass := make(chan struct{})
	w.SetGate(func(ticket uint64) {
		gated <- ticket
		<-pass
	})
	require.NoError(t, w.QueueAfter([]byte("a"), 3))
	require.NoError(t, w.QueueAfter([]byte("b"), 7))
	require.NoError(t, w.Queue([]byte("c")))
	go func() { _ = w.Run() }()
	assert.Equal(t, uint64(7), <-gated, "the batch's highest ticket")
	cw.mu.Lock()
	assert.Empty(t, cw.writes, "nothing written before the gate passed")
	cw.mu.Unlock()
	close(pass)

	require.NoError(t, w.Queue([]byte("d"))) // no ticket: no gate
	w.Close()
	<-w.Done()
	select {
	case tk := <-gated:
		t.Fatalf("gate called again with %d for a batch without tickets", tk)
	default:
	}
	var all []byte
	for _, b := range cw.writes {
		all = append(all, b...)
	}
	assert.Equal(t, []byte{0, 1, 'a', 0, 1, 'b', 0, 1, 'c', 0, 1, 'd'}, all)
}

// TestQueueHeldWaitsForWake: frames queued with QueueHeld do not wake the
// writer; Held.Wake wakes each writer noted once, and they go out in one
// write.
func TestQueueHeldWaitsForWake(t *testing.T) {
	cw1, cw2 := &countingWriter{}, &countingWriter{}
	w1, w2 := NewWriter(cw1, 1<<20), NewWriter(cw2, 1<<20)
	var h Held
	require.NoError(t, w1.QueueHeld([]byte("a"), 0, &h))
	require.NoError(t, w2.QueueHeld([]byte("b"), 0, &h))
	require.NoError(t, w1.QueueHeld([]byte("c"), 0, &h))
	assert.Empty(t, w1.wake, "not woken by a held frame")
	assert.Empty(t, w2.wake)
	assert.Len(t, h.ws, 2, "each writer noted once")

	h.Wake()
	assert.Len(t, w1.wake, 1)
	assert.Len(t, w2.wake, 1)
	assert.Empty(t, h.ws, "Wake forgets the writers it woke")
	w1.Close()
	require.NoError(t, w1.Run())
	require.Len(t, cw1.writes, 1, "the held frames in one write")
	assert.Equal(t, []byte{0, 1, 'a', 0, 1, 'c'}, cw1.writes[0])

	w1b := NewWriter(io.Discard, 1<<20)
	w1b.Close()
	assert.ErrorIs(t, w1b.QueueHeld([]byte("x"), 0, &h), ErrClosed)
	assert.Empty(t, h.ws, "a refused frame notes no writer")
}

// TestVetDropsFramesAfterTheGate: frames queued with QueueVetted are put
// to the vet function once the gate has passed, in queue order; those it
// drops are left out of the batch, the others (and unvetted ones) go out
// as queued.
func TestVetDropsFramesAfterTheGate(t *testing.T) {
	cw := &countingWriter{}
	w := NewWriter(cw, 1<<20)
	gated := false
	var asked []uint64
	w.SetGate(func(uint64) { gated = true })
	w.SetVet(func(id uint64) bool {
		assert.True(t, gated, "vetted before the gate passed")
		asked = append(asked, id)
		return id%2 == 1 // drop the odd ones
	})
	require.NoError(t, w.QueueVetted(nil, []byte("a"), 1, 1, nil))
	require.NoError(t, w.QueueVetted(nil, []byte("b"), 1, 2, nil))
	require.NoError(t, w.Queue([]byte("c")))
	require.NoError(t, w.QueueVetted(nil, []byte("d"), 1, 3, nil))
	require.NoError(t, w.QueueVetted(nil, []byte("e"), 1, 5, nil))
	require.NoError(t, w.QueueVetted(nil, []byte("f"), 1, 4, nil))
	w.Close()
	require.NoError(t, w.Run())
	var all []byte
	for _, b := range cw.writes {
		all = append(all, b...)
	}
	assert.Equal(t, []byte{0, 1, 'b', 0, 1, 'c', 0, 1, 'f'}, all)
	assert.Equal(t, []uint64{1, 2, 3, 5, 4}, asked)
}
