package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/cardswitch/cardswitch/config"
	"github.com/spf13/cobra"
)

type logFlags struct{ format, level string }

func newRoot() *cobra.Command {
	lf := &logFlags{}
	root := &cobra.Command{
		Use:           "cardswitch",
		Short:         "ISO 8583 card-network switch",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&lf.format, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&lf.level, "log-level", "info", "log level: debug, info, warn, error")
	root.AddCommand(newServe(lf), newIssuerSim(lf), newSend(), newRoutes(), newConfigCmd(),
		newTxn(), newReplay(lf), newRecord(), newDialects(), newDecode(), newCluster())
	return root
}

// logger builds the process logger from the flags (to stderr).
func (lf *logFlags) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(lf.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", lf.level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(lf.format) {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", lf.format)
}

// loadConfig reads FILE, or the embedded default when path is empty.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.LoadDefault()
	}
	return config.Load(path)
}
