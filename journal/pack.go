package journal

import (
	"fmt"

	"github.com/klauspost/compress/s2"
)

// A batch row stores its records S2-compressed. The records are most of
// the bytes SQLite writes, twice: into the WAL at the commit, then into
// the database file at the checkpoint; that I/O, in bursts every few
// milliseconds, is what the p99 latency the journal adds follows
// (PERFORMANCE.md), and S2 halves it or better for little CPU. A
// compressed blob starts with four zero bytes, which no record can (a
// record's length is never 0), so plain rows (a journal of schema 4) are
// read as they are.
const packedMark = 4

// packRecords returns the stored form of the records in b, in dst's
// storage when it is large enough (the caller keeps it for the next row).
func packRecords(dst, b []byte) []byte {
	if n := packedMark + s2.MaxEncodedLen(len(b)); cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:cap(dst)]
	clear(dst[:packedMark])
	z := s2.Encode(dst[packedMark:], b)
	return dst[:packedMark+len(z)]
}

// unpackRecords returns the records of a row's blob.
func unpackRecords(blob []byte) ([]byte, error) {
	if len(blob) < packedMark || blob[0]|blob[1]|blob[2]|blob[3] != 0 {
		return blob, nil // stored plain (schema 4)
	}
	b, err := s2.Decode(nil, blob[packedMark:])
	if err != nil {
		return nil, fmt.Errorf("journal: batch row: records do not decompress: %w", err)
	}
	return b, nil
}

// eachRowRecord is eachRecord over a batch row's records blob.
func eachRowRecord(blob []byte, fn func(r *record) bool) error {
	b, err := unpackRecords(blob)
	if err != nil {
		return err
	}
	return eachRecord(b, fn)
}
