package switchd_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/require"
)

// TestNewFailsCleanly: when New fails after opening the journal (here the
// listen address is taken), it returns the error and closes what it
// opened, so a second switch can take the journal.
func TestNewFailsCleanly(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	path := filepath.Join(t.TempDir(), "journal.db")
	cfg := opsLoad(t, lostYAML(path, "127.0.0.1:1", "1s", ""))
	cfg.Listen.Address = busy.Addr().String()
	_, err = switchd.New(cfg, switchd.WithLogger(testLog(t)), switchd.WithWatch(false))
	require.ErrorContains(t, err, "address already in use")

	cfg.Listen.Address = "127.0.0.1:0"
	sw, err := switchd.New(cfg, switchd.WithLogger(testLog(t)), switchd.WithWatch(false))
	require.NoError(t, err, "the journal was released")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, sw.Run(ctx))
}
