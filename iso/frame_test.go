package iso

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

func frames(msgs ...string) []byte {
	var b []byte
	for _, m := range msgs {
		b = AppendFrame(b, []byte(m))
	}
	return b
}

func TestFrameReaderOneByteReads(t *testing.T) {
	stream := frames(golden0100, "", golden0800)
	fr := NewFrameReader(iotest.OneByteReader(bytes.NewReader(stream)), 0)
	for _, want := range []string{golden0100, "", golden0800} {
		got, err := fr.Next()
		require.NoError(t, err)
		require.NotNil(t, got)
		require.Equal(t, want, string(got))
	}
	_, err := fr.Next()
	require.ErrorIs(t, err, io.EOF)
}

func TestFrameReaderZeroLength(t *testing.T) {
	got, err := NewFrameReader(bytes.NewReader([]byte{0, 0}), 0).Next()
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)
}

func TestFrameReaderErrors(t *testing.T) {
	tests := []struct {
		name    string
		stream  []byte
		max     int
		wantIs  error
		wantErr string
	}{
		{"empty stream", nil, 0, io.EOF, "EOF"},
		{"EOF in header", []byte{0}, 0, io.ErrUnexpectedEOF, "unexpected EOF"},
		{"EOF in body", []byte{0, 5, 'a', 'b'}, 0, io.ErrUnexpectedEOF, "unexpected EOF"},
		{"too large", []byte{0x20, 0x01, 'x'}, 0, ErrFrameTooLarge, "iso: frame too large: header announces 8193 bytes, max 8192"},
		{"over custom max", frames("12345"), 4, ErrFrameTooLarge, "iso: frame too large: header announces 5 bytes, max 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewFrameReader(bytes.NewReader(tt.stream), tt.max).Next()
			require.ErrorIs(t, err, tt.wantIs)
			require.EqualError(t, err, tt.wantErr)
		})
	}
}

func TestFrameReaderTooLargeNotConsumed(t *testing.T) {
	fr := NewFrameReader(bytes.NewReader([]byte{0xFF, 0xFF, 'x'}), 0)
	for range 2 {
		_, err := fr.Next()
		require.ErrorIs(t, err, ErrFrameTooLarge)
	}
}

// errOnce fails once with a transient error after n bytes, then continues.
type errOnce struct {
	r      io.Reader
	n      int
	failed bool
}

var errTransient = errors.New("transient")

func (e *errOnce) Read(p []byte) (int, error) {
	if !e.failed && e.n == 0 {
		e.failed = true
		return 0, errTransient
	}
	if !e.failed {
		p = p[:min(len(p), e.n)]
	}
	n, err := e.r.Read(p)
	e.n -= n
	return n, err
}

func TestFrameReaderRetryAfterTransientError(t *testing.T) {
	fr := NewFrameReader(&errOnce{r: bytes.NewReader(frames(golden0800)), n: 10}, 0)
	_, err := fr.Next()
	require.ErrorIs(t, err, errTransient)
	got, err := fr.Next()
	require.NoError(t, err)
	require.Equal(t, golden0800, string(got))
}

func TestFrameReaderMaxFrame(t *testing.T) {
	big := strings.Repeat("x", MaxFrameLen)
	fr := NewFrameReader(bytes.NewReader(frames(big)), 1<<20)
	got, err := fr.Next()
	require.NoError(t, err)
	require.Len(t, got, MaxFrameLen)
}

// countingWriter records the size of every Write call.
type countingWriter struct{ writes [][]byte }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

func TestWriteFrameSingleWrite(t *testing.T) {
	w := &countingWriter{}
	require.NoError(t, WriteFrame(w, []byte(golden0110)))
	require.Len(t, w.writes, 1)
	require.Equal(t, frames(golden0110), w.writes[0])
}

func TestWriteFrameTooLarge(t *testing.T) {
	err := WriteFrame(io.Discard, make([]byte, MaxFrameLen+1))
	require.ErrorIs(t, err, ErrFrameTooLarge)
	require.EqualError(t, err, "iso: frame too large: message of 65536 bytes, max 65535")
}

func TestReadWriteLength(t *testing.T) {
	var buf bytes.Buffer
	n, err := WriteLength(&buf, 300)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []byte{0x01, 0x2C}, buf.Bytes())
	got, err := ReadLength(&buf)
	require.NoError(t, err)
	require.Equal(t, 300, got)

	_, err = WriteLength(&buf, MaxFrameLen+1)
	require.ErrorIs(t, err, ErrFrameTooLarge)
	_, err = ReadLength(bytes.NewReader([]byte{1}))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// TestFrameReaderComplete: Complete is true exactly when Next would return
// a frame without reading, and it never reads itself.
func TestFrameReaderComplete(t *testing.T) {
	stream := frames(golden0100, golden0800)
	r := &countingReader{r: iotest.HalfReader(bytes.NewReader(stream))}
	fr := NewFrameReader(r, 0)
	require.False(t, fr.Complete(), "nothing read yet")
	require.Zero(t, r.reads)
	for _, want := range []string{golden0100, golden0800} {
		for !fr.Complete() {
			require.NoError(t, fr.Wait())
			if fr.Complete() {
				break
			}
			before := r.reads
			_, err := fr.br.Peek(fr.Buffered() + 1) // read more, as Next would
			require.NoError(t, err)
			require.Greater(t, r.reads, before)
		}
		before := r.reads
		got, err := fr.Next()
		require.NoError(t, err)
		require.Equal(t, want, string(got))
		require.Equal(t, before, r.reads, "a complete frame is returned without a read")
	}
	require.False(t, fr.Complete())
}

type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

// TestFrameReaderPeekNext: the next frame, when wholly read ahead, is
// peeked without a read and without consuming it, and Next then returns
// the very same slice; a partial or oversized next frame peeks as nil.
func TestFrameReaderPeekNext(t *testing.T) {
	r := &countingReader{r: bytes.NewReader(frames(golden0100, golden0800))}
	fr := NewFrameReader(r, 0)
	require.Nil(t, fr.PeekNext(), "nothing read yet")
	first, err := fr.Next() // one read brings both frames
	require.NoError(t, err)
	require.Equal(t, golden0100, string(first))
	reads := r.reads
	next := fr.PeekNext()
	require.Equal(t, golden0800, string(next))
	require.Equal(t, golden0100, string(first), "peeking leaves the current frame intact")
	got, err := fr.Next()
	require.NoError(t, err)
	require.Equal(t, &next[0], &got[0], "Next returns the peeked slice")
	require.Len(t, got, len(next))
	require.Equal(t, reads, r.reads, "neither PeekNext nor Next read")
	require.Nil(t, fr.PeekNext(), "no frame left")

	partial := frames(golden0100, golden0800)
	fr = NewFrameReader(bytes.NewReader(partial[:len(partial)-1]), 0)
	_, err = fr.Next()
	require.NoError(t, err)
	require.Nil(t, fr.PeekNext(), "the second frame lacks its last byte")

	fr = NewFrameReader(bytes.NewReader(frames("0800", strings.Repeat("9", 200))), 100) // both in one 4 KiB read
	_, err = fr.Next()
	require.NoError(t, err)
	require.Nil(t, fr.PeekNext(), "a frame over max is Next's to refuse")
	_, err = fr.Next()
	require.ErrorIs(t, err, ErrFrameTooLarge)
}
