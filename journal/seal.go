package journal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Stored messages (the reversals table's frames) are sealed with AES-256-GCM
// before they reach SQLite, so neither the database nor its WAL ever holds
// one in clear. A sealed frame is
//
//	version (1 byte, sealVersion) | key id (4 bytes) | nonce (12) | ciphertext and tag
//
// The key id names the key (a hash of it, never the key), so that with
// several keys configured (rotation) a frame is opened by the one that
// sealed it, and a frame whose key is gone is known as such without
// trying. The additional data binds the frame to its row (id, creation
// time, issuer): a ciphertext copied into another row does not open.
const (
	sealVersion  = 1
	sealHeader   = 1 + 4 + 12
	sealOverhead = sealHeader + 16
)

// ErrNoKey is returned when a stored message must be sealed and the journal
// was opened without keys.
var ErrNoKey = errors.New("journal: no key to encrypt stored messages (Options.Keys)")

// KeyGoneError says a stored message was sealed with a key no longer
// configured: it stays stored, untouched, until that key is back.
type KeyGoneError struct{ KeyID uint32 }

func (e *KeyGoneError) Error() string {
	return fmt.Sprintf("journal: stored message sealed with key %08x, which is not configured", e.KeyID)
}

// sealer seals with the first key and opens with any.
type sealer struct {
	ids   []uint32 // ids[i] names aeads[i]; ids[0] seals
	aeads []cipher.AEAD
	inIDs string // "id1, id2, ...": the ids as an SQL list ("-1" when none)
	card  []byte // the stand-in card key (standin.go), derived from ids[0]'s key; nil without keys
}

func newSealer(keys [][32]byte) (*sealer, error) {
	s := &sealer{}
	for _, k := range keys {
		block, err := aes.NewCipher(k[:])
		if err != nil {
			return nil, fmt.Errorf("journal: key: %w", err)
		}
		g, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("journal: key: %w", err)
		}
		s.ids, s.aeads = append(s.ids, keyID(k)), append(s.aeads, g)
		if s.card == nil {
			s.card = cardKey(k)
		}
	}
	list := make([]string, 0, len(s.ids))
	for _, id := range s.ids {
		list = append(list, strconv.FormatUint(uint64(id), 10))
	}
	if s.inIDs = strings.Join(list, ", "); s.inIDs == "" {
		s.inIDs = "-1"
	}
	return s, nil
}

// keyID names a key without revealing it: 32 bits of a domain-separated
// SHA-256, never 0 (the key_id of a row not sealed).
func keyID(k [32]byte) uint32 {
	h := sha256.Sum256(append([]byte("cardswitch journal key id\x00"), k[:]...))
	if id := binary.BigEndian.Uint32(h[:4]); id != 0 {
		return id
	}
	return 1
}

// sealAAD is the row identity a sealed frame is bound to.
func sealAAD(header []byte, id, created int64, issuer string) []byte {
	aad := make([]byte, 0, len(header)+16+len(issuer))
	aad = append(aad, header...)
	aad = binary.BigEndian.AppendUint64(aad, uint64(id))      // #nosec G115 -- bits, not a quantity
	aad = binary.BigEndian.AppendUint64(aad, uint64(created)) // #nosec G115
	return append(aad, issuer...)
}

// seal encrypts frame for the row (id, created, issuer) with the first
// key and returns the key's id and the sealed frame.
func (s *sealer) seal(frame []byte, id, created int64, issuer string) (uint32, []byte, error) {
	if s == nil || len(s.aeads) == 0 {
		return 0, nil, ErrNoKey
	}
	out := make([]byte, sealHeader, sealOverhead+len(frame))
	out[0] = sealVersion
	binary.BigEndian.PutUint32(out[1:5], s.ids[0])
	if _, err := rand.Read(out[5:sealHeader]); err != nil {
		return 0, nil, fmt.Errorf("journal: seal: no randomness: %w", err)
	}
	aad := sealAAD(out[:sealHeader], id, created, issuer)
	return s.ids[0], s.aeads[0].Seal(out, out[5:sealHeader], frame, aad), nil
}

// open decrypts a sealed frame of the row (id, created, issuer).
func (s *sealer) open(blob []byte, id, created int64, issuer string) ([]byte, error) {
	if len(blob) < sealOverhead || blob[0] != sealVersion {
		return nil, fmt.Errorf("journal: stored message %d: not a sealed frame", id)
	}
	kid := binary.BigEndian.Uint32(blob[1:5])
	aad := sealAAD(blob[:sealHeader], id, created, issuer)
	found := false
	if s != nil {
		for i, g := range s.aeads {
			if s.ids[i] != kid {
				continue
			}
			found = true
			if frame, err := g.Open(nil, blob[5:sealHeader], blob[sealHeader:], aad); err == nil {
				return frame, nil
			}
		}
	}
	if !found {
		return nil, &KeyGoneError{KeyID: kid}
	}
	return nil, fmt.Errorf("journal: stored message %d does not authenticate with key %08x: damaged, or moved from another row", id, kid)
}

// sentSealer seals the PAN of an in-flight record (inflight.go) with the
// first key, as the stored messages are sealed and in the same layout,
// bound to the record's (run, seq) by the additional data. It is on every
// request's path, so it draws no randomness and allocates nothing: the
// nonce is a prefix drawn at Open (and again whenever the counter wraps)
// followed by a counter, never repeated under a key (NIST SP 800-38D's
// deterministic construction), and the additional data is built in the
// caller's scratch (sentAAD).
// Safe for concurrent use: the switch seals ahead of its links' locks
// (PrepareSent), on every acquirer's goroutine.
type sentSealer struct {
	s      *sealer
	mu     sync.Mutex // the nonce's prefix and counter, for a few ns
	prefix uint64     // the nonces' first 8 bytes
	ctr    uint32     // the nonces' last 4
}

// sentAAD is the additional data of a sealed in-flight PAN, built in the
// caller's scratch: handed to the AEAD interface, a local array would
// escape and every request would allocate.
type sentAAD [sealHeader + 16 + len(sentAADTag)]byte

// nonce takes the next nonce's prefix and counter.
func (p *sentSealer) nonce() (prefix uint64, ctr uint32) {
	p.mu.Lock()
	if p.ctr++; p.ctr == 0 {
		p.prefix = newRun()
	}
	prefix, ctr = p.prefix, p.ctr
	p.mu.Unlock()
	return prefix, ctr
}

// sentAADTag ends an in-flight PAN's additional data: a sealed PAN does
// not open as a stored message, nor one as the other.
const sentAADTag = "\x00in-flight PAN"

func newSentSealer(s *sealer) *sentSealer {
	return &sentSealer{s: s, prefix: newRun()}
}

// can reports whether there is a key to seal with.
func (p *sentSealer) can() bool { return p.s != nil && len(p.s.aeads) > 0 }

// appendSealed appends to dst the sealed section of the record (run, seq):
// its length, then pan sealed (none: length 0, as without a key).
func (p *sentSealer) appendSealed(dst, pan []byte, run uint64, seq uint32, scratch *sentAAD) []byte {
	if len(pan) == 0 || !p.can() {
		return binary.AppendUvarint(dst, 0)
	}
	n := sealOverhead + len(pan)
	dst = binary.AppendUvarint(slices.Grow(dst, n+binary.MaxVarintLen64), uint64(n)) // #nosec G115 -- small
	h := len(dst)
	dst = append(dst, sealVersion, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(dst[h+1:], p.s.ids[0])
	prefix, ctr := p.nonce()
	binary.BigEndian.PutUint64(dst[h+5:], prefix)
	binary.BigEndian.PutUint32(dst[h+13:], ctr)
	aad := append(scratch[:0], dst[h:h+sealHeader]...)
	aad = binary.BigEndian.AppendUint64(aad, run)
	aad = binary.BigEndian.AppendUint64(aad, uint64(seq))
	aad = append(aad, sentAADTag...)
	return p.s.aeads[0].Seal(dst, dst[h+5:h+sealHeader], pan, aad)
}

// openSent opens the sealed PAN of the in-flight record (run, seq).
func (s *sealer) openSent(blob []byte, run, seq uint64) ([]byte, error) {
	return s.open(blob, int64(run), int64(seq), sentAADTag) // #nosec G115 -- bits, as sealed
}
