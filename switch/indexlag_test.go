package switchd_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/cardswitch/cardswitch/config"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// msgTap is a slog.Handler that passes each message on to a channel
// (dropping it when the channel is full).
type msgTap chan string

func (h msgTap) Enabled(context.Context, slog.Level) bool { return true }
func (h msgTap) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h msgTap) WithGroup(string) slog.Handler            { return h }
func (h msgTap) Handle(_ context.Context, r slog.Record) error {
	select {
	case h <- r.Message:
	default:
	}
	return nil
}

// TestJournalIndexPausedSwitchKeepsAnswering: with the journal's indexer
// stopped (a test hook), the switch answers request after request, many
// more answers (each its own log write) than the indexer's queue holds:
// answers wait for the log, never for the index. The lag shows in the
// metrics, and past journal.index_lag_max the switch says so in its log.
func TestJournalIndexPausedSwitchKeepsAnswering(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	cfg := opsLoad(t, opsYAML(sim.Addr())+fmt.Sprintf("journal: {path: %q, index_lag_max: 10ms}\n", journalPath(t)))
	gate := make(chan struct{})
	logs := make(msgTap, 256)
	sw := opsRun(t, cfg, switchd.WithLogger(slog.New(logs)), switchd.WithJournalIndexGate(gate))
	t.Cleanup(func() { close(gate) }) // before the switch stops (cleanups run last first)
	opsWaitUp(t, sw, "bank")

	c := dial(t, sw.addr)
	const n = 600 // one at a time: a log write each, more than twice the indexer's queue
	for i := 1; i <= n; i++ {
		require.Equal(t, "00", str(t, send(t, c, auth("4111111111111111", 100, i)), 39), "request %d", i)
	}
	m := opsScrape(t, sw)
	lag, ok := opsMetric(m, "cardswitch_journal_lag", nil)
	require.True(t, ok)
	assert.GreaterOrEqual(t, lag, float64(n), "every answer's entry is in the log, none indexed")
	age, ok := opsMetric(m, "cardswitch_journal_index_lag_seconds", nil)
	require.True(t, ok)
	assert.Positive(t, age)
	for l := range logs {
		if strings.Contains(l, "past journal.index_lag_max") {
			break
		}
	}
}
