package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runDiff runs `routes diff` in-process and returns the exit status.
func runDiff(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := newRoutesDiff()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err != nil {
		var ee exitError
		require.ErrorAs(t, err, &ee)
		code = ee.code
	}
	return code, out.String(), errOut.String()
}

func TestRoutesDiff(t *testing.T) {
	code, out, errOut := runDiff(t, "../../testdata/diff-old.yaml", "../../testdata/diff-new.yaml")
	assert.Equal(t, 1, code)
	assert.Empty(t, errOut)
	assert.Equal(t, `+ routes[2] bin "411150-411159" -> bank-b
- routes[3] bin "6011" -> bank-old
~ routes[3] bin "510000-559999" bank-b -> bank-a
moves: PANs no rule matches (default_issuer): (no route) -> bank-b
moves: 6011-6011: bank-old -> bank-b
moves: 411150-411159: bank-a -> bank-b
moves: 510000-559999: bank-b -> bank-a
- issuer bank-old
~ issuer bank-b
restart needed: listen.address
`, out)
}

func TestRoutesDiffSame(t *testing.T) {
	code, out, errOut := runDiff(t, "../../testdata/diff-old.yaml", "../../testdata/diff-old.yaml")
	assert.Equal(t, 0, code)
	assert.Empty(t, out)
	assert.Empty(t, errOut)
}

func TestRoutesDiffInvalid(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("issuers: []\nroutes: [{bin: \"4x\", issuer: bank-a}]\n"), 0o600))
	code, out, errOut := runDiff(t, "../../testdata/diff-old.yaml", bad)
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Equal(t, bad+`: routes[0] (bin "4x"): not all digits
`+bad+`: routes[0] (bin "4x"): unknown issuer "bank-a"
`, errOut)

	code, _, errOut = runDiff(t, filepath.Join(t.TempDir(), "missing.yaml"), bad)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "no such file")
}
