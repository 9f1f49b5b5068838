package trace

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
)

// Load reads the trace file at path. The format is detected from the
// content (magic bytes or first non-space character), never the extension.
// Warnings (parts of a trace that are skipped) go to slog's default logger.
func Load(path string) ([]Message, Format, error) { return LoadLog(path, slog.Default()) }

// LoadLog is Load with the warnings on log.
func LoadLog(path string, log *slog.Logger) ([]Message, Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	return ParseLog(f, path, log)
}

// Parse reads a trace from r; name is used in error messages. Messages
// keep the order of the source (capture order by time for pcap/pcapng).
// Warnings go to slog's default logger.
func Parse(r io.Reader, name string) ([]Message, Format, error) {
	return ParseLog(r, name, slog.Default())
}

// ParseLog is Parse with the warnings on log.
func ParseLog(r io.Reader, name string, log *slog.Logger) ([]Message, Format, error) {
	return ParseLogSpec(r, name, log, iso.Spec87())
}

// LoadLogSpec is LoadLog packing the messages with spec.
func LoadLogSpec(path string, log *slog.Logger, spec *iso8583.MessageSpec) ([]Message, Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	return ParseLogSpec(f, path, log, spec)
}

// ParseLogSpec is ParseLog packing the messages with spec instead of
// iso.Spec87(): the text form of a 1993 dialect, whose field values
// (1100, a 12-digit field 12, ...) do not fit the 1987 layout. Captures
// (pcap, pcapng) hold iso87ascii frames and are read with iso.Spec87()
// only.
func ParseLogSpec(r io.Reader, name string, log *slog.Logger, spec *iso8583.MessageSpec) ([]Message, Format, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	format, err := detect(br)
	if err != nil {
		return nil, "", &Error{Name: name, Err: err}
	}
	var msgs []Message
	switch format {
	case FormatJSONL:
		msgs, err = parseJSONL(br, name, spec)
	case FormatJPOSXML:
		msgs, err = parseJPOS(br, name, log, spec)
	default:
		if spec != iso.Spec87() {
			return nil, format, &Error{Name: name, Err: errors.New("captures hold ISO 8583:1987 ASCII frames: replay them in a 1987 dialect")}
		}
		msgs, err = parseCapture(br, name, format, log)
	}
	if err != nil {
		return nil, format, err
	}
	return msgs, format, nil
}

// Capture file magic numbers, as read big-endian from the first 4 bytes.
var pcapMagics = map[uint32]bool{
	0xa1b2c3d4: true, 0xd4c3b2a1: true, // microsecond timestamps
	0xa1b23c4d: true, 0x4d3cb2a1: true, // nanosecond timestamps
}

const pcapngMagic = 0x0a0d0d0a // section header block type (same both byte orders)

// detect peeks at the start of br without consuming anything.
func detect(br *bufio.Reader) (Format, error) {
	head, err := br.Peek(4)
	if len(head) == 4 {
		m := binary.BigEndian.Uint32(head)
		switch {
		case pcapMagics[m]:
			return FormatPCAP, nil
		case m == pcapngMagic:
			return FormatPCAPNG, nil
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	c, err := firstNonSpace(br)
	if err != nil {
		return "", err
	}
	switch c {
	case '{', '#':
		return FormatJSONL, nil
	case '<':
		return FormatJPOSXML, nil
	}
	return "", ErrUnknownFormat
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// firstNonSpace returns the first byte that is not white space (after an
// optional UTF-8 BOM), peeking further until one is found.
func firstNonSpace(br *bufio.Reader) (byte, error) {
	for n := 512; ; n *= 2 {
		n = min(n, br.Size())
		buf, err := br.Peek(n)
		body := bytes.TrimPrefix(buf, utf8BOM)
		if i := bytes.IndexFunc(body, func(r rune) bool { return !isSpace(r) }); i >= 0 {
			return body[i], nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, errors.New("empty trace")
			}
			return 0, err
		}
		if n == br.Size() {
			// A buffer full of blanks: stop here rather than read the world.
			return 0, ErrUnknownFormat
		}
	}
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }
