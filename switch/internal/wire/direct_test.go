package wire

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	b = <-accepted
	require.NotNil(t, b)
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return a, b
}

func frameOf(dst, body []byte) []byte {
	dst = append(dst, byte(len(body)>>8), byte(len(body)))
	return append(dst, body...)
}

// readN reads n bytes from c (a failure detector's deadline, not a
// speed check).
func readN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	got := make([]byte, n)
	_, err := io.ReadFull(c, got)
	require.NoError(t, err)
	return got
}

// pendingLen is what w still holds for Run.
func pendingLen(w *Writer) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

func TestParseDirect(t *testing.T) {
	for _, n := range directNames {
		d, err := ParseDirect(n.name)
		require.NoError(t, err)
		assert.Equal(t, n.d, d)
		assert.Equal(t, n.name, d.String())
	}
	d, err := ParseDirect("")
	require.NoError(t, err)
	assert.Equal(t, Direct(0), d, "unset is off")
	_, err = ParseDirect("yes")
	assert.ErrorIs(t, err, ErrDirect)
	assert.Contains(t, err.Error(), `"yes"`)
}

// TestWakeWritesDirectly: on a socket with SetDirect, Held.Wake writes the
// held batch from the caller's goroutine (no Run is running here), gate
// first.
func TestWakeWritesDirectly(t *testing.T) {
	a, b := tcpPair(t)
	w := NewWriter(a, 1<<20)
	w.SetDirect()
	var gated uint64
	w.SetGate(func(t uint64) { gated = t })
	var h Held
	require.NoError(t, w.QueueHeld([]byte("ab"), 5, &h))
	require.NoError(t, w.QueueHeld([]byte("c"), 0, &h))
	h.Wake()
	assert.Equal(t, uint64(5), gated, "the gate passed before the write")
	assert.Equal(t, []byte{0, 2, 'a', 'b', 0, 1, 'c'}, readN(t, b, 7))
	assert.Empty(t, w.wake, "nothing left for Run")
}

// TestWakeWithoutDirectLeavesItToRun: without SetDirect (the default,
// CARDSWITCH_WIRE_DIRECT=off) Wake only wakes Run, as it always did.
func TestWakeWithoutDirectLeavesItToRun(t *testing.T) {
	a, b := tcpPair(t)
	w := NewWriter(a, 1<<20)
	var h Held
	require.NoError(t, w.QueueHeld([]byte("ab"), 0, &h))
	h.Wake()
	assert.Len(t, w.wake, 1, "Run is woken")
	assert.Equal(t, 4, pendingLen(w), "and nothing was written")
	go func() { _ = w.Run() }()
	assert.Equal(t, []byte{0, 2, 'a', 'b'}, readN(t, b, 4))
	w.Close()
	<-w.Done()
}

// TestWakeNeverWaitsOnASlowPeer: a peer that does not read fills its
// socket; Wake writes what the socket takes and returns, Run writes the
// rest (in order, before what was queued after) once the peer reads.
func TestWakeNeverWaitsOnASlowPeer(t *testing.T) {
	a, b := tcpPair(t)
	w := NewWriter(a, 64<<20)
	w.SetDirect()
	var h Held
	body := make([]byte, 60000)
	var want []byte
	for i := 0; i < 300; i++ { // 18 MB: more than loopback socket buffers hold
		body[0] = byte(i)
		require.NoError(t, w.QueueHeld(body, 0, &h))
		want = frameOf(want, body)
	}
	h.Wake() // returns although the peer reads nothing yet
	w.mu.Lock()
	left := len(w.rest) - w.restOff
	busy := w.busy
	w.mu.Unlock()
	require.Positive(t, left, "the socket took only part: the rest is Run's")
	assert.True(t, busy, "no other write may start before the rest")
	require.NoError(t, w.QueueHeld([]byte("after"), 0, &h))
	h.Wake() // busy: left to Run, behind the rest
	require.NoError(t, w.Queue([]byte("last")))
	want = frameOf(frameOf(want, []byte("after")), []byte("last"))
	go func() { _ = w.Run() }()
	got := readN(t, b, len(want))
	assert.True(t, bytes.Equal(want, got), "every frame, in order")
	w.Close()
	<-w.Done()
}

// TestWakeOneWritesOnlyTheLast: with Held.One, Wake writes the last
// writer noted itself and leaves the others to their Runs, woken first.
func TestWakeOneWritesOnlyTheLast(t *testing.T) {
	var ws [3]*Writer
	var peers [3]net.Conn
	h := Held{One: true}
	for i := range ws {
		a, b := tcpPair(t)
		ws[i], peers[i] = NewWriter(a, 1<<20), b
		ws[i].SetDirect()
		require.NoError(t, ws[i].QueueHeld([]byte{'0' + byte(i)}, 0, &h))
	}
	h.Wake()
	assert.Equal(t, []byte{0, 1, '2'}, readN(t, peers[2], 3), "the last written directly")
	assert.Empty(t, ws[2].wake)
	for i := range 2 {
		assert.Len(t, ws[i].wake, 1, "writer %d: its Run is woken", i)
		assert.Equal(t, 3, pendingLen(ws[i]), "writer %d: nothing written directly", i)
		go func() { _ = ws[i].Run() }()
		assert.Equal(t, []byte{0, 1, '0' + byte(i)}, readN(t, peers[i], 3))
		ws[i].Close()
		<-ws[i].Done()
	}
}

// TestWakeLeavesVettedFramesToRun: a batch with a vetted frame is not
// written directly: Run writes it, asking the vet after the gate, which
// drops what the vet refuses; frames keep their order.
func TestWakeLeavesVettedFramesToRun(t *testing.T) {
	a, b := tcpPair(t)
	w := NewWriter(a, 1<<20)
	w.SetDirect()
	gated := false
	w.SetGate(func(uint64) { gated = true })
	w.SetVet(func(id uint64) bool {
		assert.True(t, gated, "the vet comes after the gate")
		return id == 2
	})
	var h Held
	require.NoError(t, w.QueueHeld([]byte("a"), 1, &h))
	require.NoError(t, w.QueueVetted(nil, []byte("b"), 1, 2, &h))
	require.NoError(t, w.QueueVetted(nil, []byte("c"), 1, 3, &h))
	h.Wake()
	assert.False(t, gated, "nothing written by Wake")
	assert.Equal(t, 9, pendingLen(w))
	go func() { _ = w.Run() }()
	assert.Equal(t, []byte{0, 1, 'a', 0, 1, 'c'}, readN(t, b, 6))
	w.Close()
	<-w.Done()
}

// TestDirectWriteErrorEndsRun: a direct write that fails is the writer's
// sticky error: Run returns it (its owner closes the connection) and
// Queue refuses.
func TestDirectWriteErrorEndsRun(t *testing.T) {
	a, _ := tcpPair(t)
	w := NewWriter(a, 1<<20)
	w.SetDirect()
	var h Held
	require.NoError(t, w.QueueHeld([]byte("a"), 0, &h))
	require.NoError(t, a.Close())
	h.Wake()
	require.Error(t, w.Run())
	assert.Error(t, w.Queue([]byte("b")))
}

// TestSetDirectNeedsASocket: a writer that is not a socket (TLS, a pipe)
// is written by Run only.
func TestSetDirectNeedsASocket(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := NewWriter(a, 1<<20)
	w.SetDirect()
	assert.Nil(t, w.direct)
}
