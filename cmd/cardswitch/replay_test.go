package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/replay/trace"
	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runReplay runs `cardswitch replay args...` in process; it returns
// stdout and the exit status main would use.
func runReplay(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	cmd := newReplay(&logFlags{format: "text", level: "info"})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	var ee exitError
	switch {
	case err == nil:
		return out.String(), 0, nil
	case errors.As(err, &ee):
		return out.String(), ee.code, nil
	}
	return out.String(), 1, err
}

func replaySim(t *testing.T, sc config.Simulator) string {
	t.Helper()
	sc.Listen = "127.0.0.1:0"
	sim, err := issuersim.New(sc, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = sim.Serve() }()
	t.Cleanup(func() { _ = sim.Close(); <-done })
	return sim.Addr()
}

// writeTrace writes generated messages as a JSONL trace, every one
// expecting code.
func writeTrace(t *testing.T, n int, amount int64, code string) string {
	t.Helper()
	msgs := trace.Generate(trace.GenOptions{Count: n, MinAmount: amount, MaxAmount: amount, Seed: 7})
	var buf bytes.Buffer
	w := trace.NewWriter(&buf)
	for _, m := range msgs {
		im, err := unpack(m.Frame)
		require.NoError(t, err)
		require.NoError(t, w.Write(im, trace.NoTiming, code))
	}
	p := filepath.Join(t.TempDir(), "trace.jsonl")
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o600))
	return p
}

func TestReplayCommand(t *testing.T) {
	addr := replaySim(t, config.Simulator{DeclineAbove: 100000})
	dir := t.TempDir()
	jsonOut, htmlOut := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")

	out, code, err := runReplay(t, "--target", addr, "--count", "300", "--concurrency", "8", "--connections", "2",
		"--report", jsonOut, "--html", htmlOut)
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "answered")
	assert.Contains(t, out, "validation failures")

	var rep map[string]any
	b, err := os.ReadFile(jsonOut)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rep))
	for _, k := range []string{"sent", "answered", "timeouts", "errors", "throughput_per_s", "latency_ms", "codes", "validation_failures", "series"} {
		assert.Contains(t, rep, k)
	}
	for _, k := range []string{"p50", "p90", "p99", "p999", "max"} {
		assert.Contains(t, rep["latency_ms"], k)
	}
	assert.EqualValues(t, 300, rep["answered"])
	series := rep["series"].([]any)
	require.NotEmpty(t, series)
	for _, k := range []string{"t", "sent", "answered", "p50_ms", "p99_ms"} {
		assert.Contains(t, series[0], k)
	}

	h, err := os.ReadFile(htmlOut)
	require.NoError(t, err)
	html := string(h)
	assert.Contains(t, html, "<svg")
	assert.Contains(t, html, "Latency over time")
	assert.Contains(t, html, "Throughput")
	assert.Contains(t, html, "<polyline")
	assert.NotContains(t, html, "http://cdn")
	assert.NotContains(t, html, "<script src")
}

func TestReplayExitCodes(t *testing.T) {
	addr := replaySim(t, config.Simulator{DeclineAbove: 100000})
	ok := writeTrace(t, 5, 1000, "00")
	declined := writeTrace(t, 5, 200000, "00") // the simulator answers 51

	out, code, err := runReplay(t, "--target", addr, ok)
	require.NoError(t, err)
	assert.Equal(t, 0, code, out)

	out, code, err = runReplay(t, "--target", addr, declined)
	require.NoError(t, err)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "response code 51, want 00")
	assert.Regexp(t, `\d{6}\*{6}\d{4}`, out, "PANs masked in failures")

	_, _, err = runReplay(t, "--target", addr, "--timing", "sometimes", ok)
	require.EqualError(t, err, `--timing "sometimes": want recorded (or leave it out)`)

	_, _, err = runReplay(t, "--target", addr, "--bins", "41x")
	require.ErrorContains(t, err, "generator: BIN \"41x\"")
}

func TestReplayMaxErrors(t *testing.T) {
	addr := replaySim(t, config.Simulator{Rules: []config.SimRule{{Amount: 999, NoAnswer: true}}})
	p := writeTrace(t, 3, 999, "")
	_, code, err := runReplay(t, "--target", addr, "--timeout", "100ms", "--max-errors", "5", p)
	require.NoError(t, err)
	assert.Equal(t, 0, code, "3 timeouts are within --max-errors 5")
	out, code, err := runReplay(t, "--target", addr, "--timeout", "100ms", p)
	require.NoError(t, err)
	assert.Equal(t, 1, code, "default --max-errors 0")
	assert.Contains(t, out, "timeouts")
}

func unpack(frame []byte) (*iso8583.Message, error) {
	m := iso8583.NewMessage(iso.Spec87())
	return m, m.Unpack(frame)
}
