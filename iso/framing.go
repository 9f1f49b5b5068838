package iso

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
)

// LengthFraming is how a dialect delimits messages on a stream: the
// length header in front of each message.
type LengthFraming uint8

// The length framings. Every length counts the bytes after it (any
// header such as a TPDU, then the message), except binary2-inclusive,
// whose length also counts its own 2 bytes.
const (
	LengthBinary2          LengthFraming = iota // 2-byte big-endian binary (today's)
	LengthBinary2Inclusive                      // 2-byte binary that counts itself
	LengthBCD2                                  // 2 bytes, 4 BCD digits
	LengthASCII4                                // 4 ASCII digits
	LengthBinary4                               // 4-byte big-endian binary
	LengthNone                                  // none: one read is one message
)

var lengthNames = [...]string{"binary2", "binary2-inclusive", "bcd2", "ascii4", "binary4", "none"}

func (l LengthFraming) String() string {
	if int(l) < len(lengthNames) {
		return lengthNames[l]
	}
	return fmt.Sprintf("length(%d)", uint8(l))
}

// ParseLengthFraming reads a length framing name as the config spells it.
func ParseLengthFraming(s string) (LengthFraming, error) {
	for i, n := range lengthNames {
		if s == n {
			return LengthFraming(i), nil
		}
	}
	return 0, fmt.Errorf("iso: unknown length framing %q (want one of %s)", s, strings.Join(lengthNames[:], ", "))
}

// Size is the number of bytes of the length header.
func (l LengthFraming) Size() int {
	switch l {
	case LengthBinary2, LengthBinary2Inclusive, LengthBCD2:
		return 2
	case LengthASCII4, LengthBinary4:
		return 4
	}
	return 0
}

// capacity is the largest value the length header can hold.
func (l LengthFraming) capacity() int {
	switch l {
	case LengthBinary2:
		return 0xFFFF
	case LengthBinary2Inclusive:
		return 0xFFFF - 2
	case LengthBCD2, LengthASCII4:
		return 9999
	}
	return 1<<31 - 1
}

// HeaderKind is what a dialect sends between the length and the message.
type HeaderKind uint8

// The headers.
const (
	HeaderNone  HeaderKind = iota // nothing
	HeaderTPDU                    // 5 bytes: 0x60, destination NII, source NII
	HeaderFixed                   // fixed bytes, given in hex
)

// TPDULen is the size of a TPDU header.
const TPDULen = 5

// tpduID is the first byte of a transaction TPDU.
const tpduID = 0x60

// Framing is a dialect's wire envelope: a length header, then a header,
// then the message.
type Framing struct {
	Length LengthFraming
	Header HeaderKind
	// Fixed holds the bytes of a HeaderFixed header.
	Fixed []byte
}

// ParseHeader reads a header as the config spells it: "" (none), "tpdu",
// or "hex:" followed by the header's bytes in hex.
func ParseHeader(s string) (HeaderKind, []byte, error) {
	switch {
	case s == "":
		return HeaderNone, nil, nil
	case s == "tpdu":
		return HeaderTPDU, nil, nil
	case strings.HasPrefix(s, "hex:"):
		b, err := hex.DecodeString(s[len("hex:"):])
		if err != nil || len(b) == 0 {
			return 0, nil, fmt.Errorf("iso: header %q: want hex: followed by an even number of hex digits", s)
		}
		return HeaderFixed, b, nil
	}
	return 0, nil, fmt.Errorf("iso: unknown header %q (want \"\", tpdu or hex:...)", s)
}

// HeaderLen is the size of the header between the length and the message.
func (f Framing) HeaderLen() int {
	switch f.Header {
	case HeaderTPDU:
		return TPDULen
	case HeaderFixed:
		return len(f.Fixed)
	}
	return 0
}

// HeaderString is the header as the config spells it.
func (f Framing) HeaderString() string {
	switch f.Header {
	case HeaderTPDU:
		return "tpdu"
	case HeaderFixed:
		return "hex:" + strings.ToUpper(hex.EncodeToString(f.Fixed))
	}
	return ""
}

// MaxBody is the largest message the length header can announce.
func (f Framing) MaxBody() int { return f.Length.capacity() - f.HeaderLen() }

// FramingError reports a frame that breaks its framing's rules. Both
// fields are fixed texts or numbers, never frame bytes, so the error is
// safe to log. A reader that returns one has not consumed the frame: the
// stream cannot be resynchronised and the caller should close it.
type FramingError struct {
	Framing string // the length framing or header name, e.g. "ascii4", "tpdu"
	Rule    string // the rule broken
}

func (e *FramingError) Error() string { return "iso: " + e.Framing + " framing: " + e.Rule }

// Is makes a too-long frame match ErrFrameTooLarge, as FrameReader's does.
func (e *FramingError) Is(target error) bool {
	return target == ErrFrameTooLarge && e.Rule == ruleTooLarge
}

const ruleTooLarge = "length above the maximum"

func framingErr(name, rule string) error { return &FramingError{Framing: name, Rule: rule} }

// ParseLength reads a length header (hdr holds at least Size bytes) and
// returns how many bytes follow it.
func (l LengthFraming) ParseLength(hdr []byte) (int, error) {
	switch l {
	case LengthBinary2:
		return int(binary.BigEndian.Uint16(hdr)), nil
	case LengthBinary2Inclusive:
		n := int(binary.BigEndian.Uint16(hdr))
		if n < 2 {
			return 0, framingErr(l.String(), "length below 2, the size of the length itself")
		}
		return n - 2, nil
	case LengthBCD2:
		return bcdLength(hdr[:2])
	case LengthASCII4:
		return asciiLength(hdr[:4])
	case LengthBinary4:
		n := binary.BigEndian.Uint32(hdr)
		if n > uint32(l.capacity()) {
			return 0, framingErr(l.String(), ruleTooLarge)
		}
		return int(n), nil
	}
	return 0, nil
}

func bcdLength(hdr []byte) (int, error) {
	n := 0
	for _, b := range hdr {
		hi, lo := b>>4, b&0x0F
		if hi > 9 || lo > 9 {
			return 0, framingErr("bcd2", "nibble above 9 in the length")
		}
		n = n*100 + int(hi)*10 + int(lo)
	}
	return n, nil
}

func asciiLength(hdr []byte) (int, error) {
	n := 0
	for _, c := range hdr {
		if c < '0' || c > '9' {
			return 0, framingErr("ascii4", "non-digit in the length")
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// AppendLength appends the length header announcing n following bytes.
func (l LengthFraming) AppendLength(dst []byte, n int) ([]byte, error) {
	if n < 0 || n > l.capacity() {
		return dst, framingErr(l.String(), ruleTooLarge)
	}
	switch l {
	case LengthBinary2:
		return binary.BigEndian.AppendUint16(dst, uint16(n)), nil // #nosec G115 -- checked above
	case LengthBinary2Inclusive:
		return binary.BigEndian.AppendUint16(dst, uint16(n+2)), nil // #nosec G115 -- checked above
	case LengthBCD2:
		return append(dst, byte(n/1000)<<4|byte(n/100%10), byte(n/10%10)<<4|byte(n%10)), nil
	case LengthASCII4:
		return append(dst, '0'+byte(n/1000), '0'+byte(n/100%10), '0'+byte(n/10%10), '0'+byte(n%10)), nil
	case LengthBinary4:
		return binary.BigEndian.AppendUint32(dst, uint32(n)), nil // #nosec G115 -- checked above
	}
	return dst, nil
}

// AppendFrame appends a whole frame: the length, the header (hdr, which
// must be HeaderLen bytes: for a TPDU, the one to send; nil sends the
// configured fixed header, and a TPDU must be given) and msg.
func (f Framing) AppendFrame(dst, hdr, msg []byte) ([]byte, error) {
	hl := f.HeaderLen()
	if hdr == nil {
		hdr = f.Fixed
	}
	if f.Header == HeaderNone {
		hdr = nil
	} else if len(hdr) != hl {
		return dst, framingErr(f.HeaderName(), fmt.Sprintf("header of %d bytes, want %d", len(hdr), hl))
	}
	dst, err := f.Length.AppendLength(dst, hl+len(msg))
	if err != nil {
		return dst, err
	}
	dst = append(dst, hdr...)
	return append(dst, msg...), nil
}

// HeaderName names the header in errors.
func (f Framing) HeaderName() string {
	switch f.Header {
	case HeaderTPDU:
		return "tpdu"
	case HeaderFixed:
		return "hex header"
	}
	return "no header"
}

// AnswerTPDU writes into dst (TPDULen bytes) the TPDU answering req: the
// same ID, the source and destination NII swapped, as jPOS's NACChannel
// peers expect.
func AnswerTPDU(dst, req []byte) {
	_ = dst[TPDULen-1]
	dst[0] = req[0]
	dst[1], dst[2] = req[3], req[4]
	dst[3], dst[4] = req[1], req[2]
}

// framedPool recycles WriteFramed's buffers so that writing does not allocate.
var framedPool = sync.Pool{New: func() any { b := make([]byte, 0, DefaultMaxFrame+16); return &b }}

// WriteFramed writes one frame with a single Write call, so that
// concurrent writers serialised by a mutex never interleave half frames.
func (f Framing) WriteFramed(w io.Writer, hdr, msg []byte) error {
	bp := framedPool.Get().(*[]byte)
	buf, err := f.AppendFrame((*bp)[:0], hdr, msg)
	if err == nil {
		_, err = w.Write(buf)
	}
	*bp = buf[:0]
	framedPool.Put(bp)
	return err
}

// FramedReader reads frames of any Framing from a stream. Like
// FrameReader, its buffer holds a whole frame, so Next returns views into
// it without copying or allocating.
type FramedReader struct {
	br  *bufio.Reader
	f   Framing
	max int // largest length value accepted (header + message)
}

// NewFramedReader reads frames whose message is at most max bytes
// (max <= 0 means DefaultMaxFrame; it is clamped to what the length
// header can announce).
func NewFramedReader(r io.Reader, f Framing, maxMsg int) *FramedReader {
	if maxMsg <= 0 {
		maxMsg = DefaultMaxFrame
	}
	limit := min(maxMsg+f.HeaderLen(), f.Length.capacity())
	size := max(limit+f.Length.Size(), minReadBuffer)
	return &FramedReader{br: bufio.NewReaderSize(r, size), f: f, max: limit}
}

// Next returns the next frame's header (HeaderLen bytes: the TPDU or the
// fixed header as received; the reader does not compare a fixed header,
// as peers vary flag bytes in it) and message. Both alias the reader's
// buffer and are valid until the next call.
//
// Errors: io.EOF at a clean end between frames; io.ErrUnexpectedEOF
// inside a frame; a *FramingError when the frame breaks its framing (a
// length that is not a number, above the maximum, or shorter than the
// header; a TPDU whose ID is not 0x60), the frame not consumed.
func (fr *FramedReader) Next() (hdr, msg []byte, err error) {
	ls := fr.f.Length.Size()
	n, err := fr.nextLength(ls)
	if err != nil {
		return nil, nil, err
	}
	if n > fr.max {
		return nil, nil, framingErr(fr.f.Length.String(), ruleTooLarge)
	}
	hl := fr.f.HeaderLen()
	if n < hl {
		return nil, nil, framingErr(fr.f.HeaderName(), "frame shorter than its header")
	}
	buf, err := fr.br.Peek(ls + n)
	if err != nil {
		return nil, nil, eofInFrame(err, true)
	}
	if fr.f.Header == HeaderTPDU && buf[ls] != tpduID {
		return nil, nil, framingErr("tpdu", "TPDU ID is not 0x60")
	}
	_, _ = fr.br.Discard(ls + n)
	return buf[ls : ls+hl], buf[ls+hl:], nil
}

// nextLength reads the length header, or for LengthNone takes what one
// read delivered.
func (fr *FramedReader) nextLength(ls int) (int, error) {
	if fr.f.Length == LengthNone {
		if _, err := fr.br.Peek(1); err != nil {
			return 0, err
		}
		return fr.br.Buffered(), nil
	}
	lh, err := fr.br.Peek(ls)
	if err != nil {
		return 0, eofInFrame(err, len(lh) > 0)
	}
	return fr.f.Length.ParseLength(lh)
}

// Buffered is how many bytes of later frames are already read: a writer
// flushes its answers once it is 0.
func (fr *FramedReader) Buffered() int { return fr.br.Buffered() }

// Wait blocks until at least one byte of the next frame is available.
func (fr *FramedReader) Wait() error {
	_, err := fr.br.Peek(1)
	return err
}
