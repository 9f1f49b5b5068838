// Package keyfile reads and creates the journal's key file: the AES-256
// keys that encrypt the messages the switch stores (reversals and advices
// owed to issuers).
//
// Format: a file of exactly 32 bytes is one raw key. Any other file is
// text, one key per line, each 64 hex digits or the standard base64 (44
// characters, padded) of 32 bytes; blank lines and lines starting with #
// are ignored; surrounding spaces are trimmed. The first key encrypts,
// every key decrypts: to rotate, put a new key on the first line and keep
// the old ones below it until no stored message needs them.
package keyfile

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Size is the length of a key: AES-256.
const Size = 32

// Key is one AES-256 key.
type Key [Size]byte

// Error says why a key file is refused. It never carries key material.
type Error struct {
	Path string
	Line int // 0 when the whole file is at fault
	Rule string
	err  error
}

// Unwrap gives the file system error behind the refusal, if any.
func (e *Error) Unwrap() error { return e.err }

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("key file %s: %s", e.Path, e.Rule)
	}
	return fmt.Sprintf("key file %s: line %d: %s", e.Path, e.Line, e.Rule)
}

// Rule is the format, for messages that explain a refusal.
const Rule = "want one key per line, each 64 hex digits or base64 of 32 bytes (or a file of exactly 32 raw bytes)"

// Load reads the keys of the file at path, the encrypting one first.
func Load(path string) ([]Key, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- the operator's configured key file
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &Error{Path: path, Rule: "does not exist", err: err}
		}
		return nil, &Error{Path: path, Rule: "cannot be read: " + pathless(err), err: err}
	}
	defer clear(b)
	keys, line, rule := Parse(b)
	if rule != "" {
		return nil, &Error{Path: path, Line: line, Rule: rule}
	}
	return keys, nil
}

// Parse reads keys in the file format; on failure it returns the line at
// fault (0: the whole file) and the rule broken.
func Parse(b []byte) (keys []Key, line int, rule string) {
	if len(b) == Size {
		var k Key
		copy(k[:], b)
		return []Key{k}, 0, ""
	}
	for i, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, ok := decode(l)
		if !ok {
			return nil, i + 1, Rule
		}
		for _, prev := range keys {
			if prev == k {
				return nil, i + 1, "the same key twice"
			}
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, 0, "no key: " + Rule
	}
	return keys, 0, ""
}

func decode(l string) (Key, bool) {
	var k Key
	var b []byte
	var err error
	switch len(l) {
	case 2 * Size:
		b, err = hex.DecodeString(l)
	case base64.StdEncoding.EncodedLen(Size):
		b, err = base64.StdEncoding.DecodeString(l)
	default:
		return k, false
	}
	if err != nil || len(b) != Size {
		return k, false
	}
	copy(k[:], b)
	clear(b)
	return k, true
}

// Create writes a new random key to path (mode 0600, hex, one line) and
// returns it. It fails if path exists: a key is never overwritten.
func Create(path string) (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("key file %s: no randomness: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- beside the journal
	if err != nil {
		return k, &Error{Path: path, Rule: "cannot be created: " + pathless(err), err: err}
	}
	line := []byte(hex.EncodeToString(k[:]) + "\n")
	defer clear(line)
	if _, err = f.Write(line); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return k, &Error{Path: path, Rule: "cannot be written: " + pathless(err), err: err}
	}
	return k, nil
}

// pathless is err's message without the path an *fs.PathError repeats.
func pathless(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
