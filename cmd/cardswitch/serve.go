package main

import (
	"context"
	"math"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/cardswitch/cardswitch/internal/gctune"
	"github.com/cardswitch/cardswitch/issuersim"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/spf13/cobra"
)

func newServe(lf *logFlags) *cobra.Command {
	var (
		path  string
		watch bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the switch (on the embedded default config unless --config is given)",
		Long: `Run the switch. Without --config it runs on the embedded default configuration
(see 'cardswitch config default'), which also starts two simulated issuers in
this process, so approvals and declines work on 127.0.0.1:8583 with no set-up.
Environment variables CARDSWITCH_* override config keys (CARDSWITCH_LISTEN_ADDRESS, ...).
SIGTERM or SIGINT: stop accepting, finish requests in flight, exit 0.
SIGHUP, a change to the config file, or POST /admin/reload: reload the config
(validated in full first; an invalid file is rejected and the old one kept).
POST /admin/simulators/<name>/down (or /up) takes an in-process simulator
down (or brings it back), as an issuer host that goes away; GET
/admin/simulators lists them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.logger()
			if err != nil {
				return err
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			// Before the switch is built: its switch-wide in-flight cap is
			// sized to the memory limit in force.
			gc := gctune.Apply(cfg.MemoryLimit)
			from := "config"
			if gc.FromEnv {
				from = "GOMEMLIMIT"
			}
			log.Info("garbage collector", "gogc", gc.GOGC, "memory_limit", memoryLimitString(gc.MemoryLimit),
				"memory_limit_from", from)
			// The simulators the config asks for run beside the switch,
			// and stop after it: its links sign off first.
			sims, err := issuersim.StartGroup(cfg.Simulators, log)
			if err != nil {
				return err
			}
			defer sims.Close()
			sw, err := switchd.New(cfg, switchd.WithLogger(log), switchd.WithWatch(watch), switchd.WithSimulators(sims))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			// Subscribe before serving: an early SIGHUP must reload, not kill.
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go reloadOnHangup(ctx, sw, hup)
			return sw.Run(ctx)
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "config file (YAML); default: the embedded demo config")
	cmd.Flags().BoolVar(&watch, "watch", true, "reload the config file when it changes")
	return cmd
}

// reloadOnHangup reloads the config on every SIGHUP until ctx ends.
func reloadOnHangup(ctx context.Context, sw *switchd.Switch, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_, _ = sw.Reload(ctx) // the switch logs the outcome
		}
	}
}

// memoryLimitString is a memory limit for the start-up log line.
func memoryLimitString(n int64) string {
	if n == math.MaxInt64 {
		return "none"
	}
	return strconv.FormatInt(n>>20, 10) + "MiB"
}
