package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/internal/pan"
	"github.com/cardswitch/cardswitch/iso"
)

func TestDialectsListsBuiltins(t *testing.T) {
	out, _, code := run(t, "dialects")
	require.Equal(t, 0, code)
	for _, d := range iso.BuiltinDialects() {
		assert.Regexp(t, "(?m)^"+d.Name+" +"+strconv.Itoa(d.Version)+" +"+d.Framing.Length.String()+" ", out)
	}
	assert.Contains(t, out, "iso87binary.xml on NACChannel with a TPDU header")
	assert.Contains(t, out, "iso93ascii.xml on ASCIIChannel")
}

type goldenFrame struct {
	Dialect string            `json:"dialect"`
	Name    string            `json:"name"`
	Hex     string            `json:"hex"`
	Fields  map[string]string `json:"fields"`
}

func jposFrames(t *testing.T) []goldenFrame {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/interop/jpos/frames.jsonl")
	require.NoError(t, err)
	var out []goldenFrame
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var f goldenFrame
		require.NoError(t, json.Unmarshal(sc.Bytes(), &f))
		out = append(out, f)
	}
	require.NotEmpty(t, out)
	return out
}

// runDecode runs decode in-process with stdin.
func runDecode(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := newDecode()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// Every jPOS frame decodes in its dialect: text fields shown, card data
// (PAN, track 2) never in the clear.
func TestDecodeJPOSFramesMasksCardData(t *testing.T) {
	for _, f := range jposFrames(t) {
		t.Run(f.Dialect+"/"+f.Name, func(t *testing.T) {
			out, err := runDecode(t, "", "--dialect", f.Dialect, f.Hex)
			require.NoError(t, err)
			assert.Contains(t, out, "MTI")
			assert.Contains(t, out, f.Fields["0"])
			assert.Contains(t, out, f.Fields["11"], "STAN shown")
			if p, ok := f.Fields["2"]; ok {
				assert.NotContains(t, out, p, "PAN masked")
				assert.Contains(t, out, pan.Mask([]byte(p)))
			}
			if tr, ok := f.Fields["35"]; ok {
				cardNo, rest, _ := strings.Cut(tr, "=")
				assert.NotContains(t, out, cardNo, "track 2 PAN masked")
				assert.NotContains(t, out, rest, "track 2 discretionary data withheld")
				assert.Contains(t, out, pan.Mask([]byte(cardNo)))
			}
		})
	}
}

// The real binary reads the hex from stdin as well.
func TestDecodeStdinThroughBinary(t *testing.T) {
	f := jposFrames(t)[2] // iso87ascii 0100-auth
	require.Equal(t, "0100-auth", f.Name)
	out, _, code := runStdin(t, f.Hex[:40]+"\n  "+f.Hex[40:]+"\n", "decode", "--dialect", f.Dialect)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "JPOS DEV SHOP")
	assert.NotContains(t, out, f.Fields["2"])
	assert.Contains(t, out, "476173******0010")
}

// --framed reads the length header and the TPDU before the message.
func TestDecodeFramedTPDU(t *testing.T) {
	var f goldenFrame
	for _, g := range jposFrames(t) {
		if g.Dialect == "iso87binary" && g.Name == "0800-echo" {
			f = g
		}
	}
	d, err := iso.LookupDialect("iso87binary-tpdu")
	require.NoError(t, err)
	msg, _ := hex.DecodeString(f.Hex)
	framed, err := d.Framing.AppendFrame(nil, []byte{0x60, 0x00, 0x01, 0x00, 0x02}, msg)
	require.NoError(t, err)
	out, err := runDecode(t, "", "--dialect", d.Name, "--framed", hex.EncodeToString(framed))
	require.NoError(t, err)
	assert.Contains(t, out, "header   tpdu 6000010002")
	assert.Contains(t, out, "0800")
	assert.Regexp(t, `(?m)^ 70 .* 301$`, out)

	_, err = runDecode(t, "", "--dialect", d.Name, "--framed", "0003600001")
	require.ErrorContains(t, err, "tpdu framing: frame shorter than its header")
}

// A frame that stops inside a field is refused naming that field.
func TestDecodeErrorNamesField(t *testing.T) {
	for _, f := range jposFrames(t) {
		ids := []int{}
		for k := range f.Fields {
			id, _ := strconv.Atoi(k)
			ids = append(ids, id)
		}
		sort.Ints(ids)
		last := ids[len(ids)-1]
		_, err := runDecode(t, "", "--dialect", f.Dialect, f.Hex[:len(f.Hex)-2])
		require.ErrorContains(t, err, "decode: field "+strconv.Itoa(last)+":", f.Dialect+"/"+f.Name)
	}
	_, err := runDecode(t, "", "--dialect", "iso87ascii", "30313")
	require.ErrorContains(t, err, "not hex")
	_, err = runDecode(t, "", "--dialect", "iso99", "3031")
	require.ErrorContains(t, err, `unknown dialect "iso99"`)
}

// runStdin executes the real binary with stdin and returns stdout,
// stderr and the exit code.
func runStdin(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return out.String(), errb.String(), code
}

// An EBCDIC frame decodes to readable text, its PAN masked.
func TestDecodeEBCDIC(t *testing.T) {
	d, err := iso.LookupDialect("iso87ebcdic")
	require.NoError(t, err)
	spec, err := d.Spec()
	require.NoError(t, err)
	msg := iso8583.NewMessage(spec)
	msg.MTI("0100")
	require.NoError(t, msg.Field(2, "4761739001010010"))
	require.NoError(t, msg.Field(11, "123456"))
	require.NoError(t, msg.Field(41, "TERMDEV1"))
	packed, err := msg.Pack()
	require.NoError(t, err)
	require.NotContains(t, string(packed), "TERMDEV1", "text is EBCDIC on the wire")
	out, err := runDecode(t, "", "--dialect", "iso87ebcdic", hex.EncodeToString(packed))
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^ 41 .* TERMDEV1$`, out)
	assert.Contains(t, out, "476173******0010")
	assert.NotContains(t, out, "4761739001010010")
}
