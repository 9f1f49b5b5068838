package journal

import (
	"runtime"
	"time"
)

// Entries are stored a batch per row: the log records of up to indexMax
// entries as one BLOB, with the batch's id and time ranges and a Bloom
// filter of its RRNs and STANs. The indexer then makes one B-tree insert
// per batch, not a row and three index entries per entry: per entry, the
// index costs a fraction of a row (PERFORMANCE.md). Queries decode the records (CRC-checked, as in the log):
// time ranges narrow by the batches' max_time index, RRN and STAN lookups
// by the filters, and an id by the primary key.

// batchMeta is what a batch row stores beside its records.
type batchMeta struct {
	first, last, count int64
	minTime, maxTime   int64
	keys               bloom
}

// reset prepares m for n records.
func (m *batchMeta) reset(n int) {
	m.first, m.last, m.count = 0, 0, 0
	m.keys.reset(2 * n)
}

// yieldEvery is how many records build reads between yields.
const yieldEvery = 256

// build sizes m for the n records in b and takes them all in. The records
// were encoded by this process from memory, or checked by replay when read
// back from the log, so their checksums are not verified again here.
func (m *batchMeta) build(b []byte, n int) error {
	m.reset(n)
	var r record
	for off, i := 0, 0; off < len(b); i++ {
		if i > 0 && i%yieldEvery == 0 {
			// The indexer is the one long CPU burst in the process: left
			// alone it holds a P until async preemption (10 ms) while
			// goroutines carrying answers wait.
			runtime.Gosched()
		}
		size, err := decodeTrusted(b[off:], &r)
		if err != nil {
			return err
		}
		m.add(&r)
		off += size
	}
	return nil
}

// add takes one record into the ranges and the filter.
func (m *batchMeta) add(r *record) {
	k := keysOf(r)
	m.addKeys(&k)
}

// buildKeys is build for records whose keys the stage took as they came
// (recKeys): nothing is decoded.
func (m *batchMeta) buildKeys(ks []recKeys) {
	m.reset(len(ks))
	for i := range ks {
		m.addKeys(&ks[i])
	}
}

func (m *batchMeta) addKeys(k *recKeys) {
	if m.count == 0 {
		m.first, m.minTime, m.maxTime = k.id, k.time, k.time
	}
	m.count++
	m.last = max(m.last, k.id)
	m.minTime, m.maxTime = min(m.minTime, k.time), max(m.maxTime, k.time)
	m.keys.addHash(k.rrn)
	m.keys.addHash(k.stan)
}

// recKeys is what a batch row keeps of a record besides its bytes: its id,
// its time, and the filter hashes of its RRN and STAN. The stage takes
// them from the entry as it copies the record in, so the indexer does not
// decode the records again (decoding would be a large share of its work).
type recKeys struct {
	id, time  int64
	rrn, stan keyHash
}

// keyHash is bloomHash of one key; zero for an empty value, which is not
// stored (bloomHash's h2 is odd, so no key hashes to zero).
type keyHash struct{ h1, h2 uint32 }

func hashKey(kind byte, v []byte) keyHash {
	if len(v) == 0 {
		return keyHash{}
	}
	h1, h2 := bloomHash(kind, v)
	return keyHash{h1, h2}
}

func keysOf(r *record) recKeys {
	return recKeys{id: r.id, time: r.time, rrn: hashKey(keyRRN, r.texts[colRRN]), stan: hashKey(keySTAN, r.texts[colSTAN])}
}

// Positions in textCols order (record.go, entryTexts).
const (
	colAcquirer = iota
	colRemote
	colIssuer
	colMTI
	colProcessingCode
	colAmount
	colCurrency
	colSTAN
	colRRN
	colTerminal
	colTransmissionTime
	colPAN
	colCode
	colOutcome
	colReason
)

// Key kinds, hashed in front of the value so an RRN never matches a STAN.
const (
	keyRRN  = 'r'
	keySTAN = 's'
)

// bloom is a Bloom filter over byte strings: bloomBits bits per key and
// bloomHashes probes give about 1% false positives, so an RRN lookup
// decodes about one batch in a hundred that does not hold it.
type bloom []byte

const (
	bloomBits   = 10
	bloomHashes = 7
	bloomMin    = 8 // bytes
)

// reset sizes b for n keys and clears it. The size is rounded up to a
// power of two so add can mask instead of divide (14 divisions per record
// were half the cost of building a batch's filter); has divides by the
// stored size, so filters of any size written before still read.
func (b *bloom) reset(n int) {
	size := bloomMin
	for size*8 < n*bloomBits {
		size *= 2
	}
	if cap(*b) < size {
		*b = make(bloom, size)
		return
	}
	*b = (*b)[:size]
	clear(*b)
}

// addHash inserts a key by its hashes (hashKey); the zero keyHash, an
// empty value (a field the request did not carry), is never looked up, so
// it is not stored.
func (b bloom) addHash(k keyHash) {
	if k == (keyHash{}) {
		return
	}
	mask := uint32(len(b)*8) - 1 // #nosec G115 -- a batch's filter is far below 4 GiB; a power of two (reset)
	for i := range uint32(bloomHashes) {
		bit := (k.h1 + i*k.h2) & mask
		b[bit/8] |= 1 << (bit % 8)
	}
}

// has reports whether kind+v may be in the filter (false: certainly not).
func (b bloom) has(kind byte, v string) bool {
	if len(b) == 0 {
		return false
	}
	h1, h2 := bloomHash(kind, []byte(v))
	m := uint32(len(b) * 8) // #nosec G115 -- as in add
	for i := range uint32(bloomHashes) {
		bit := (h1 + i*h2) % m
		if b[bit/8]&(1<<(bit%8)) == 0 {
			return false
		}
	}
	return true
}

// bloomHash is FNV-1a 64 of kind+v, split in two for double hashing. It
// is stored on disk, so it must never change (a new one needs a schema
// version).
func bloomHash(kind byte, v []byte) (h1, h2 uint32) {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	h = (h ^ uint64(kind)) * prime
	for _, c := range v {
		h = (h ^ uint64(c)) * prime
	}
	return uint32(h), uint32(h>>32) | 1 // #nosec G115 -- halves of the hash
}

// eachRecord decodes the records of one batch row in order and calls fn
// until it returns false. A record that does not decode is corruption.
func eachRecord(b []byte, fn func(r *record) bool) error {
	var r record
	for off := 0; off < len(b); {
		n, err := nextRecord(b[off:], &r)
		if err == nil && n == 0 {
			err = errBadRecord
		}
		if err != nil {
			return err
		}
		if !fn(&r) {
			return nil
		}
		off += n
	}
	return nil
}

// entryOf rebuilds an Entry from a record, copying its text.
func entryOf(r *record) Entry {
	t := &r.texts
	return Entry{ID: r.id, Time: fromNanos(r.time), Conn: uint64(r.conn), // #nosec G115
		Acquirer: string(t[colAcquirer]), Remote: string(t[colRemote]), Issuer: string(t[colIssuer]),
		MTI: string(t[colMTI]), ProcessingCode: string(t[colProcessingCode]), Amount: string(t[colAmount]),
		Currency: string(t[colCurrency]), STAN: string(t[colSTAN]), RRN: string(t[colRRN]),
		Terminal: string(t[colTerminal]), TransmissionTime: string(t[colTransmissionTime]), PAN: string(t[colPAN]),
		ResponseCode: string(t[colCode]), Outcome: Outcome(t[colOutcome]), Reason: string(t[colReason]),
		Latency:         time.Duration(r.latencyUS) * time.Microsecond,
		AcquirerDialect: string(r.dialects[0]), IssuerDialect: string(r.dialects[1])}
}
