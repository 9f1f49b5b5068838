package iso

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/moov-io/iso8583/network"
)

const (
	// DefaultMaxFrame is the default largest accepted message body.
	DefaultMaxFrame = 8192
	// MaxFrameLen is the largest body a 2-byte length header can announce.
	MaxFrameLen = 0xFFFF
	// headerLen is the size of the big-endian binary length header.
	headerLen = 2
	// minReadBuffer keeps small max values from causing tiny reads.
	minReadBuffer = 4096
)

// ErrFrameTooLarge reports a frame whose header announces more than the
// reader's maximum (or a message too long for a 2-byte header).
var ErrFrameTooLarge = errors.New("iso: frame too large")

// FrameReader reads length-prefixed frames from a stream. Its buffer holds
// a whole frame, so Next returns a view into it without copying.
//
// NewFrameReader reads today's framing (a 2-byte binary length, no
// header) on a path of its own; NewFrameReaderFraming reads any Framing
// (general), with the same scan-ahead helpers.
type FrameReader struct {
	br  *bufio.Reader
	max int // binary2: the largest body; general: the largest length value (header + body)

	general bool
	f       Framing
	ls, hl  int    // the length header's and the header's sizes (general)
	hdr     []byte // the header of the frame Next returned last (general)
}

// NewFrameReaderFraming reads frames of f whose message is at most maxMsg
// bytes (maxMsg <= 0 means DefaultMaxFrame; clamped to what f's length
// header can announce). For f the zero Framing it is NewFrameReader.
func NewFrameReaderFraming(r io.Reader, f Framing, maxMsg int) *FrameReader {
	if f.Length == LengthBinary2 && f.Header == HeaderNone {
		return NewFrameReader(r, maxMsg)
	}
	if maxMsg <= 0 {
		maxMsg = DefaultMaxFrame
	}
	limit := min(maxMsg+f.HeaderLen(), f.Length.capacity())
	size := max(limit+f.Length.Size(), minReadBuffer)
	return &FrameReader{br: bufio.NewReaderSize(r, size), max: limit, general: true, f: f,
		ls: f.Length.Size(), hl: f.HeaderLen()}
}

// Header is the header (a TPDU, a fixed header as received) of the frame
// Next returned last; nil for a framing without one. It aliases the
// reader's buffer, as the frame does.
func (fr *FrameReader) Header() []byte { return fr.hdr }

// NewFrameReader reads frames of at most max bytes (body, without header)
// from r. max <= 0 means DefaultMaxFrame; max > MaxFrameLen is clamped.
func NewFrameReader(r io.Reader, max int) *FrameReader { //nolint:predeclared // name from the agreed API
	limit := max
	if limit <= 0 {
		limit = DefaultMaxFrame
	}
	limit = min(limit, MaxFrameLen)
	size := limit + headerLen
	if size < minReadBuffer {
		size = minReadBuffer
	}
	return &FrameReader{br: bufio.NewReaderSize(r, size), max: limit}
}

// Next returns the next frame's body. The slice aliases the reader's
// buffer and is valid only until the next call. A zero-length frame yields
// a non-nil empty slice.
//
// Errors: io.EOF at a clean end of stream between frames;
// io.ErrUnexpectedEOF when the stream ends inside a frame; an error
// wrapping ErrFrameTooLarge when the header announces more than max (the
// frame is not consumed: the caller should close the connection). Any
// other read error (e.g. a deadline) leaves the frame unconsumed, so Next
// may be called again. A general reader also returns a *FramingError for a
// frame that breaks its framing (a length that is not a number, a frame
// shorter than its header, a TPDU whose ID is not 0x60), not consumed:
// the caller should close the connection.
func (fr *FrameReader) Next() ([]byte, error) {
	if fr.general {
		return fr.nextGeneral()
	}
	hdr, err := fr.br.Peek(headerLen)
	if err != nil {
		return nil, eofInFrame(err, len(hdr) > 0)
	}
	n := int(binary.BigEndian.Uint16(hdr))
	if n > fr.max {
		return nil, fmt.Errorf("%w: header announces %d bytes, max %d", ErrFrameTooLarge, n, fr.max)
	}
	buf, err := fr.br.Peek(headerLen + n)
	if err != nil {
		return nil, eofInFrame(err, true)
	}
	// Discard only moves the read index: buf stays intact until the next Peek.
	_, _ = fr.br.Discard(headerLen + n)
	return buf[headerLen:], nil
}

// eofInFrame turns io.EOF into io.ErrUnexpectedEOF once part of a frame
// has been read.
func eofInFrame(err error, started bool) error {
	if started && errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// AppendFrame appends the 2-byte header and msg to dst. The caller
// guarantees len(msg) <= MaxFrameLen (a longer msg would get a wrong
// header); WriteFrame checks it instead.
func AppendFrame(dst, msg []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(msg))) // #nosec G115 -- documented precondition
	return append(dst, msg...)
}

// framePool recycles WriteFrame's buffers so that writing does not allocate.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, DefaultMaxFrame+headerLen); return &b }}

// WriteFrame writes header and msg with a single Write call, so that
// concurrent writers serialised by a mutex never interleave half frames.
func WriteFrame(w io.Writer, msg []byte) error {
	if len(msg) > MaxFrameLen {
		return fmt.Errorf("%w: message of %d bytes, max %d", ErrFrameTooLarge, len(msg), MaxFrameLen)
	}
	bp := framePool.Get().(*[]byte)
	buf := AppendFrame((*bp)[:0], msg)
	_, err := w.Write(buf)
	*bp = buf[:0]
	framePool.Put(bp)
	return err
}

// ReadLength reads a 2-byte header; it is a moov-io/iso8583-connection
// MessageLengthReader.
func ReadLength(r io.Reader) (int, error) {
	h := network.NewBinary2BytesHeader()
	if _, err := h.ReadFrom(r); err != nil {
		return 0, err
	}
	return h.Length(), nil
}

// WriteLength writes a 2-byte header for n; it is a
// moov-io/iso8583-connection MessageLengthWriter.
func WriteLength(w io.Writer, n int) (int, error) {
	if n < 0 || n > MaxFrameLen {
		return 0, fmt.Errorf("%w: message of %d bytes, max %d", ErrFrameTooLarge, n, MaxFrameLen)
	}
	h := network.NewBinary2BytesHeader()
	if err := h.SetLength(n); err != nil {
		return 0, err
	}
	return h.WriteTo(w)
}

// Buffered is how many bytes are already read ahead: non-zero means a
// frame has started arriving.
func (fr *FrameReader) Buffered() int { return fr.br.Buffered() }

// Complete reports whether a whole frame is already read ahead, so that
// Next returns it without reading: under load most frames arrive in a
// batch, and a caller can skip arming a read deadline for each of them.
func (fr *FrameReader) Complete() bool {
	_, whole := fr.buffered()
	return whole
}

// PeekNext returns the next frame's body when the whole frame is already
// read ahead, without consuming it or reading, and nil otherwise. The
// slice is the one Next will return for that frame (same bytes, same
// address), valid as long as Next's. A caller can prepare the next frame
// (scan it, prefetch what it will need) before handling the current one.
func (fr *FrameReader) PeekNext() []byte {
	if fr.general {
		return fr.peekGeneral()
	}
	n, whole := fr.buffered()
	if !whole || n > fr.max {
		return nil // not here yet, or Next's to refuse
	}
	buf, _ := fr.br.Peek(headerLen + n) // buffered: no read
	return buf[headerLen:]
}

// buffered is the next frame's body length, when its header is read
// ahead, and whether the whole frame is. It never reads.
func (fr *FrameReader) buffered() (n int, whole bool) {
	if fr.general {
		n, whole, _ = fr.bufferedGeneral()
		return n, whole
	}
	b := fr.br.Buffered()
	if b < headerLen {
		return 0, false
	}
	hdr, _ := fr.br.Peek(headerLen) // buffered: no read
	n = int(binary.BigEndian.Uint16(hdr))
	return n, b >= headerLen+n
}

// Wait blocks until at least one byte of the next frame is available
// (or a read error, such as a deadline). A switch uses it to apply an idle
// timeout between frames and a shorter frame timeout once a frame starts.
func (fr *FrameReader) Wait() error {
	_, err := fr.br.Peek(1)
	return err
}

// nextGeneral is Next for any framing.
func (fr *FrameReader) nextGeneral() ([]byte, error) {
	var n int
	if fr.f.Length == LengthNone {
		if _, err := fr.br.Peek(1); err != nil {
			return nil, err
		}
		n = fr.br.Buffered()
	} else {
		lh, err := fr.br.Peek(fr.ls)
		if err != nil {
			return nil, eofInFrame(err, len(lh) > 0)
		}
		if n, err = fr.f.Length.ParseLength(lh); err != nil {
			return nil, err
		}
	}
	if n > fr.max {
		return nil, framingErr(fr.f.Length.String(), ruleTooLarge)
	}
	if n < fr.hl {
		return nil, framingErr(fr.f.HeaderName(), "frame shorter than its header")
	}
	buf, err := fr.br.Peek(fr.ls + n)
	if err != nil {
		return nil, eofInFrame(err, true)
	}
	if fr.f.Header == HeaderTPDU && buf[fr.ls] != tpduID {
		return nil, framingErr("tpdu", "TPDU ID is not 0x60")
	}
	_, _ = fr.br.Discard(fr.ls + n)
	if fr.hl > 0 {
		fr.hdr = buf[fr.ls : fr.ls+fr.hl]
	}
	return buf[fr.ls+fr.hl:], nil
}

// bufferedGeneral is buffered for any framing; ok is false when the
// length header read ahead breaks the framing (Next reports it).
func (fr *FrameReader) bufferedGeneral() (n int, whole, ok bool) {
	b := fr.br.Buffered()
	if fr.f.Length == LengthNone {
		return b, b > 0, true
	}
	if b < fr.ls {
		return 0, false, true
	}
	lh, _ := fr.br.Peek(fr.ls) // buffered: no read
	n, err := fr.f.Length.ParseLength(lh)
	if err != nil {
		return 0, true, false // Next reports it without reading
	}
	return n, b >= fr.ls+n, true
}

// peekGeneral is PeekNext for any framing.
func (fr *FrameReader) peekGeneral() []byte {
	n, whole, ok := fr.bufferedGeneral()
	if !ok || !whole || n > fr.max || n < fr.hl {
		return nil // not here yet, or Next's to refuse
	}
	buf, _ := fr.br.Peek(fr.ls + n) // buffered: no read
	if fr.f.Header == HeaderTPDU && buf[fr.ls] != tpduID {
		return nil
	}
	return buf[fr.ls+fr.hl:]
}
