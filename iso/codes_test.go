package iso_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/iso"
)

// TestSwitchCodesMatchREADME keeps the README's table "Response codes the
// switch generates itself" and iso.SwitchCodes equal: the same codes, in
// the same order, with the same meanings.
func TestSwitchCodesMatchREADME(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, section, found := strings.Cut(string(readme), "### Response codes the switch generates itself\n")
	require.True(t, found, "README section missing")
	var got [][2]string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "#") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(line, "| ") {
			continue
		}
		code, meaning := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])
		if code == "39" || strings.HasPrefix(code, "-") {
			continue // the header and its rule
		}
		got = append(got, [2]string{code, meaning})
	}
	var want [][2]string
	for _, c := range iso.SwitchCodes {
		want = append(want, [2]string{string(c.Code), c.Meaning})
	}
	assert.ElementsMatch(t, want, got)
}

// TestCodeText: every code of the table has its meaning, and so do the
// issuer codes an operator meets most.
func TestCodeText(t *testing.T) {
	for _, c := range iso.SwitchCodes {
		assert.Equal(t, c.Meaning, iso.CodeText(string(c.Code)), c.Code)
		assert.Equal(t, c.Code, iso.SwitchCodes[iso.SwitchCodeIndex(string(c.Code))].Code)
	}
	assert.Equal(t, "insufficient funds", iso.CodeText("51"))
	assert.Equal(t, "", iso.CodeText("zz"))
	assert.Equal(t, -1, iso.SwitchCodeIndex("51"))
}
