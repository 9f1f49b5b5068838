package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/porttest"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/replay/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecordCommand(t *testing.T) {
	sim, err := issuersim.New(config.Simulator{Name: "sim", Listen: "127.0.0.1:0",
		Rules: []config.SimRule{{PANSuffix: "0051", Code: "51"}}}, nil)
	require.NoError(t, err)
	go func() { _ = sim.Serve() }()
	defer sim.Close()

	// The command logs its address only to the process's stderr: a port
	// reserved for the test (a port freed at once could be taken first).
	listen := porttest.Addr(t)
	out := filepath.Join(t.TempDir(), "rec.jsonl")
	cmd := newRecord()
	cmd.SetArgs([]string{"--listen", listen, "--upstream", sim.Addr(), "--out", out})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	var c *acqclient.Client
	require.Eventually(t, func() bool {
		c, err = acqclient.Dial(listen, time.Second)
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "proxy listening")
	for i, pan := range []string{"4111111111111111", "4111111111110051"} {
		m, err := acqclient.Request{PAN: pan, Amount: 100, STAN: i + 1}.Message()
		require.NoError(t, err)
		_, err = c.Send(m)
		require.NoError(t, err)
	}
	require.NoError(t, c.Close())
	cancel()
	require.NoError(t, <-done)

	msgs, format, err := trace.Load(out)
	require.NoError(t, err)
	assert.Equal(t, trace.FormatJSONL, format)
	require.Len(t, msgs, 2)
	assert.Equal(t, []string{"00"}, msgs[0].Expect)
	assert.Equal(t, []string{"51"}, msgs[1].Expect)
	assert.NotContains(t, string(msgs[0].Frame), "4111111111111111", "PAN replaced by default")
}

func TestRecordCommandFlags(t *testing.T) {
	cmd := newRecord()
	cmd.SetArgs([]string{"--listen", "127.0.0.1:0"})
	require.EqualError(t, cmd.Execute(), `required flag(s) "out", "upstream" not set`)

	cmd = newRecord()
	cmd.SetArgs([]string{"--upstream", "127.0.0.1:1", "--out", filepath.Join(t.TempDir(), "no", "such", "dir.jsonl")})
	require.ErrorContains(t, cmd.Execute(), "--out: open ")
}
