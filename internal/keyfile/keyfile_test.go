package keyfile

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	var a, b Key
	for i := range a {
		a[i], b[i] = byte(i), byte(255-i)
	}
	hexA, b64B := hex.EncodeToString(a[:]), base64.StdEncoding.EncodeToString(b[:])
	for _, tc := range []struct {
		name, in string
		want     []Key
		line     int
		rule     string
	}{
		{"raw 32 bytes", string(a[:]), []Key{a}, 0, ""},
		{"hex", hexA + "\n", []Key{a}, 0, ""},
		{"hex upper case, no newline", strings.ToUpper(hexA), []Key{a}, 0, ""},
		{"base64", b64B, []Key{b}, 0, ""},
		{"rotation: first encrypts", "# new key first\n" + b64B + "\n\n  " + hexA + "  \r\n", []Key{b, a}, 0, ""},
		{"a bad line", hexA + "\n" + hexA[:63] + "\n", nil, 2, Rule},
		{"not hex", strings.Repeat("zz", 32), nil, 1, Rule},
		{"base64 of 31 bytes", base64.StdEncoding.EncodeToString(a[:31]), nil, 1, Rule},
		{"raw 33 bytes", string(a[:]) + "\n", nil, 1, Rule},
		{"the same key twice", hexA + "\n" + base64.StdEncoding.EncodeToString(a[:]), nil, 2, "the same key twice"},
		{"empty", "# nothing\n\n", nil, 0, "no key: " + Rule},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, line, rule := Parse([]byte(tc.in))
			assert.Equal(t, tc.want, keys)
			assert.Equal(t, tc.line, line)
			assert.Equal(t, tc.rule, rule)
		})
	}
}

func TestCreateAndLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db.key")
	k, err := Create(path)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), st.Mode().Perm())
	keys, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, []Key{k}, keys)
	assert.NotEqual(t, Key{}, k)

	_, err = Create(path)
	assert.True(t, errors.Is(err, fs.ErrExist), "never overwritten: %v", err)
	again, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, keys, again)

	_, err = Load(path + ".none")
	assert.EqualError(t, err, "key file "+path+".none: does not exist")
	require.NoError(t, os.WriteFile(path, []byte("secret-looking but wrong\n"), 0o600))
	_, err = Load(path)
	assert.EqualError(t, err, "key file "+path+": line 1: "+Rule)
	assert.NotContains(t, err.Error(), "secret", "the file's content is never quoted")
}
