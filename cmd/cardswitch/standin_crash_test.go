package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/porttest"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kill -9 while the switch stands in for an issuer that is down: every
// stand-in answer a client saw has its advice, which the restarted switch
// delivers to the issuer once it is up (0120, or 0121 after an attempt),
// with the decision the client got.
func TestKill9LosesNoStandInAdvice(t *testing.T) {
	issuerAddr := porttest.Addr(t) // down, for nothing else to take, until the simulator starts there
	path := filepath.Join(t.TempDir(), "journal.db")
	yaml := strings.Replace(crashYAML(path, issuerAddr, "300ms"), "    reconnect_max: 100ms\n",
		"    reconnect_max: 100ms\n    stand_in:\n      enabled: true\n      max_amount: 10000\n      max_count: 3\n      advice_rate: 1000\n", 1)
	cfg := writeFile(t, "s.yaml", yaml)
	p1 := startServe(t, "--config", cfg)
	addr := p1.waitLog(t, "cardswitch listening", nil)["addr"].(string)

	clients, wait := runClients(addr, 4, false, func(seq int) string {
		return fmt.Sprintf("411111111111%04d", seq%40) // 40 cards: approvals, then 65s
	})
	p1.waitLog(t, "transaction", map[string]string{"stan": "100050", "outcome": "stand-in"})
	require.NoError(t, p1.cmd.Process.Kill())
	wait()
	<-p1.done
	p1.done <- nil

	sim := startCrashSim(t, config.Simulator{Listen: issuerAddr})
	p2 := startServe(t, "--config", cfg)
	p2.waitLog(t, "issuer link up", nil)
	j, err := journal.OpenReadOnly(path, createdKeys(t, path)...)
	require.NoError(t, err)
	defer j.Close()
	require.Eventually(t, func() bool {
		n, err := j.ReversalCount()
		return err == nil && n == 0
	}, crashDeadline, 10*time.Millisecond, "advices still owed after the restart")

	got := map[string]string{} // RRN -> 39 of its advice
	for _, r := range sim.wait(t, "", func([]issuersim.Request) bool { return true }) {
		if r.MTI == "0120" || r.MTI == "0121" {
			got[r.RRN] = r.Code
		}
	}
	total, approved := 0, 0
	for _, c := range clients {
		for _, a := range c.answers {
			total++
			if a.Code == "00" {
				approved++
			}
			assert.Equal(t, a.Code, got[a.RRN], "the advice of RRN %s reached the issuer with the decision", a.RRN)
		}
	}
	require.GreaterOrEqual(t, total, 150)
	require.Positive(t, approved)
	t.Logf("%d stand-in answers before the kill (%d approved); %d advices delivered after the restart",
		total, approved, len(got))
}
