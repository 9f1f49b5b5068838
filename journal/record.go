package journal

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"time"
)

// A log record is one entry as the log stores it:
//
//	uint32 payload length (little endian)
//	uint32 CRC-32C of the payload
//	payload: kind byte, uvarint id, varint time (unix ns), uvarint conn,
//	         varint latency (µs), then textCols strings, each uvarint
//	         length + bytes, in textCols order (entryTexts); then, from
//	         schema 7 and only when either is set, the acquirer's and the
//	         issuer's dialect names, two more such strings (appendDialects).
//
// The checksum finds a torn tail after a crash (or power loss) and any
// corruption of a sealed segment; the length lets a reader skip ahead.
const (
	recHeader   = 8
	recKindV1   = 1
	maxRecordSz = 1 << 20 // far above any entry; a bigger length is corruption
)

// textCols is how many strings a record carries.
const textCols = 15

var crcTable = crc32.MakeTable(crc32.Castagnoli)

var errBadRecord = errors.New("bad record")

// appendRecord appends e's record to dst. It allocates only when dst grows.
func appendRecord(dst []byte, e *Entry) []byte {
	start := len(dst)
	dst = appendHead(dst, e.ID)
	dst = appendTimes(dst, e.Time, e.Conn, e.Latency)
	for _, s := range entryTexts(e) {
		dst = appendText(dst, s)
	}
	dst = appendDialects(dst, e.AcquirerDialect, e.IssuerDialect)
	return seal(dst, start)
}

// appendDialects appends the dialect names after the text columns, unless
// both are "" (iso87ascii on both sides, which every entry written before
// dialects existed also is): same-dialect traffic keeps its records as
// they were.
func appendDialects(dst []byte, acquirer, issuer string) []byte {
	if acquirer == "" && issuer == "" {
		return dst
	}
	return appendText(appendText(dst, acquirer), issuer)
}

// appendEncoded appends the record of an entry encoded by AppendBody.
func appendEncoded(dst []byte, id int64, body []byte) []byte {
	start := len(dst)
	dst = appendHead(dst, id)
	dst = append(dst, body...)
	return seal(dst, start)
}

// appendHead appends the header to fill in (seal), the kind and the id.
func appendHead(dst []byte, id int64) []byte {
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	dst = append(dst, recKindV1)
	return binary.AppendUvarint(dst, uint64(id)) // #nosec G115 -- ids are positive
}

func appendTimes(dst []byte, t time.Time, conn uint64, latency time.Duration) []byte {
	dst = binary.AppendVarint(dst, t.UnixNano())
	dst = binary.AppendUvarint(dst, conn)
	return binary.AppendVarint(dst, latency.Microseconds())
}

func appendText[T ~string | ~[]byte](dst []byte, s T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// seal fills in the header of the record that starts at start.
func seal(dst []byte, start int) []byte {
	payload := dst[start+recHeader:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(payload))) // #nosec G115 -- bounded by maxRecordSz
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(payload, crcTable))
	return dst
}

// entryTexts is an entry's text columns in textCols order.
func entryTexts(e *Entry) [textCols]string {
	return [textCols]string{e.Acquirer, e.Remote, e.Issuer, e.MTI, e.ProcessingCode, e.Amount,
		e.Currency, e.STAN, e.RRN, e.Terminal, e.TransmissionTime, e.PAN, e.ResponseCode,
		string(e.Outcome), e.Reason}
}

// record is a decoded log record; raw and texts alias the buffer it was
// read from.
type record struct {
	kind                      byte // recKindV1, or a side record's (inflight.go)
	id, time, conn, latencyUS int64
	texts                     [textCols][]byte
	dialects                  [2][]byte // the acquirer's and the issuer's; nil: iso87ascii
	raw                       []byte    // the whole record, header included
	side                      sentKey
	sent                      []byte // the rest of a sent record (sentOf)
}

// nextRecord decodes the record at the start of b and returns its size.
// n == 0 with a nil error means b holds only part of a record (a torn tail
// when b is the end of a file); errBadRecord means the bytes are not a
// record (checksum or encoding).
func nextRecord(b []byte, r *record) (n int, err error) { return decodeRecord(b, r, true) }

// decodeTrusted is nextRecord without the checksum, for records this
// process encoded or already checked: it still refuses a record that does
// not decode, and a truncated one is an error here.
func decodeTrusted(b []byte, r *record) (n int, err error) {
	n, err = decodeRecord(b, r, false)
	if err == nil && n == 0 {
		err = errBadRecord
	}
	return n, err
}

func decodeRecord(b []byte, r *record, checksum bool) (n int, err error) {
	if len(b) < recHeader {
		return 0, nil
	}
	size := int(binary.LittleEndian.Uint32(b))
	if size == 0 || size > maxRecordSz {
		return 0, errBadRecord
	}
	if len(b) < recHeader+size {
		return 0, nil
	}
	p := b[recHeader : recHeader+size]
	if checksum && crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(b[4:]) {
		return 0, errBadRecord
	}
	if err := decodePayload(p, r); err != nil {
		return 0, err
	}
	r.raw = b[:recHeader+size]
	return recHeader + size, nil
}

func decodePayload(p []byte, r *record) error {
	if len(p) > 0 && (p[0] == recKindSent || p[0] == recKindClose) {
		return decodeSide(p, r)
	}
	if len(p) == 0 || p[0] != recKindV1 {
		return errBadRecord
	}
	r.kind = recKindV1
	d := decoder{b: p[1:]}
	r.id = int64(d.uvarint()) // #nosec G115 -- written from a positive int64
	r.time = d.varint()
	r.conn = int64(d.uvarint()) // #nosec G115 -- stored as SQLite INTEGER, as before
	r.latencyUS = d.varint()
	for i := range r.texts {
		r.texts[i] = d.bytes()
	}
	r.dialects = [2][]byte{}
	if len(d.b) > 0 {
		r.dialects[0], r.dialects[1] = d.bytes(), d.bytes()
	}
	if d.bad || len(d.b) != 0 || r.id <= 0 {
		return errBadRecord
	}
	return nil
}

// decoder reads varints and length-prefixed bytes, remembering the first
// failure instead of returning it from every call.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

// varint undoes binary.AppendVarint's zig-zag encoding.
func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1) // #nosec G115 -- zig-zag: the top bit is the sign
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)) {
		d.bad, d.b = true, nil
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}
