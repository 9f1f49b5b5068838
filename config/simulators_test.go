package config

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSimulatorProblemsAsInFile: a simulator built by hand (as the
// issuer-sim command and issuersim.New take it) is checked by the rules,
// and with the messages, of a config file's simulators section.
func TestSimulatorProblemsAsInFile(t *testing.T) {
	_, err := LoadBytes("t.yaml", []byte(minimal+`
simulators:
  - listen: "127.0.0.1"
    approval_code_prefix: "AB-"
    decline_above: "-5"
    latency: "-2s"
    reversal_drop: "-1"
    rules:
      - {pan_prefix: "4x", code: "051"}
      - {pan_suffix: "1", no_answer: true, malformed: true}
`))
	var ve *ValidationError
	require.True(t, errors.As(err, &ve), "%v", err)
	var fromFile []string
	for _, p := range ve.Problems {
		fromFile = append(fromFile, p.String())
	}

	byHand := Simulator{
		Listen: "127.0.0.1", ApprovalCodePrefix: "AB-", DeclineAbove: -5, Latency: -2 * time.Second, ReversalDrop: -1,
		Rules: []SimRule{{PANPrefix: "4x", Code: "051"}, {PANSuffix: "1", NoAnswer: true, Malformed: true}},
	}
	var got []string
	for _, p := range byHand.Problems() {
		if p.Where == "" {
			got = append(got, "simulators[0]: "+p.Msg)
		} else {
			got = append(got, "simulators[0]."+p.Where+": "+p.Msg)
		}
	}
	assert.Equal(t, fromFile, got)
	assert.Len(t, got, 8)
	assert.Empty(t, Simulator{Listen: "127.0.0.1:0", Rules: []SimRule{{PANPrefix: "4"}}}.Problems(),
		"a hand-built rule may do nothing (it hides the rules after it)")
}

// TestSimulatorDialect: simulators[].dialect takes a built-in dialect; an
// unknown name is refused naming the file, the key and the known dialects.
func TestSimulatorDialect(t *testing.T) {
	cfg, err := LoadBytes("t.yaml", []byte(minimal+`
simulators:
  - listen: 127.0.0.1:9101
    dialect: iso93ascii
  - listen: 127.0.0.1:9102
`))
	require.NoError(t, err)
	require.Len(t, cfg.Simulators, 2)
	assert.Equal(t, "iso93ascii", cfg.Simulators[0].Dialect)
	assert.Equal(t, "", cfg.Simulators[1].Dialect, "default: iso87ascii")

	_, err = LoadBytes("t.yaml", []byte(minimal+`
simulators:
  - name: bank
    listen: 127.0.0.1:9101
    dialect: iso87klingon
`))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "t.yaml")
	assert.Contains(t, msg, `simulators[0] (bank): dialect: unknown dialect "iso87klingon" (known: iso87ascii, iso87ascii-ascii4, iso87binary, iso87binary-tpdu, iso93ascii, iso93binary, iso87ebcdic)`)
}

// TestSimulatorDownAfter: simulators[].down_after is read as a count; a
// negative or non-numeric one is refused naming the file, the simulator
// and the key; names are unique, as the admin listener drives a
// simulator by its name.
func TestSimulatorDownAfter(t *testing.T) {
	cfg, err := LoadBytes("t.yaml", []byte(minimal+`
simulators:
  - {name: bank, listen: 127.0.0.1:9101, down_after: 3}
  - {listen: 127.0.0.1:9102}
  - {listen: 127.0.0.1:9103}
`))
	require.NoError(t, err)
	assert.Equal(t, 3, cfg.Simulators[0].DownAfter)
	assert.Equal(t, 0, cfg.Simulators[1].DownAfter, "default: never")

	for text, want := range map[string]string{
		"-1":    `t.yaml: simulators[0] (bank): down_after "-1": must not be negative`,
		"three": `t.yaml: simulators[0] (bank): down_after`,
	} {
		_, err := LoadBytes("t.yaml", []byte(minimal+"\nsimulators:\n  - {name: bank, listen: 127.0.0.1:9101, down_after: "+text+"}\n"))
		require.Error(t, err, text)
		assert.Contains(t, err.Error(), want, text)
	}
	assert.Equal(t, "down_after \"-1\": must not be negative",
		Simulator{Listen: "127.0.0.1:0", DownAfter: -1}.Problems()[0].Msg)

	_, err = LoadBytes("t.yaml", []byte(minimal+`
simulators:
  - {name: bank, listen: 127.0.0.1:9101}
  - {name: bank, listen: 127.0.0.1:9102}
`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `t.yaml: simulators[1] (bank): name "bank": already used by simulators[0]`)
}
