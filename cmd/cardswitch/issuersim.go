package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/spf13/cobra"
)

func newIssuerSim(lf *logFlags) *cobra.Command {
	var (
		sc         config.Simulator
		rules      []string
		configPath string // --config: user dialects --dialect may name
	)
	cmd := &cobra.Command{
		Use:   "issuer-sim --listen ADDR [flags]",
		Short: "Run a standalone simulated issuer",
		Long: `Run a simulated issuer. It answers 0800 with 0810/00, approves 0100/0200 with
39=00 and a 6-character approval code (38), declines 51 above --decline-above,
and applies --rule in order (first match wins). A rule is comma-separated
key=value pairs: match keys pan_prefix, pan_suffix, amount; action keys
code=NN, delay=DURATION, no_answer, malformed.

--dialect D makes it read and answer in dialect D (see 'cardswitch
dialects'): a TPDU is answered with its NIIs swapped; a 1993 dialect
treats 1100/1200 as authorizations, 1420/1421 as reversals and 1804 as
network management, and answers 3-digit action codes (00 is 000, 51 is
116, 05 is 100; the README's Issuer simulator section has the table).

SIGUSR1 takes the simulated issuer down (its links are closed and new ones
refused, as a host that goes away: a switch with stand-in decides for it);
SIGUSR2 brings it back up (the switch reconnects and delivers its advices).
--down-after N takes it down by itself once it has answered N
authorizations (the next one is left unanswered), once per process.`,
		Example: `  cardswitch issuer-sim --listen 127.0.0.1:9101 --decline-above 100000 \
    --rule pan_suffix=0005,code=05 --rule amount=999,no_answer --rule pan_prefix=4000,delay=2s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.logger()
			if err != nil {
				return err
			}
			for i, r := range rules {
				rule, err := parseRule(r)
				if err != nil {
					return fmt.Errorf("--rule #%d %q: %w", i+1, r, err)
				}
				sc.Rules = append(sc.Rules, rule)
			}
			d, err := lookupDialect(sc.Dialect, configPath)
			if err != nil {
				return fmt.Errorf("--dialect: %w", err)
			}
			sim, err := issuersim.NewIn(sc, d, log)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			go func() { <-ctx.Done(); _ = sim.Close() }()
			defer downOnSignals(ctx, sim)()
			log.Info("issuer simulator listening", "addr", sim.Addr())
			return sim.Serve()
		},
	}
	f := cmd.Flags()
	f.StringVar(&sc.Listen, "listen", "127.0.0.1:9101", "address to listen on")
	f.StringVar(&sc.Name, "name", "issuer-sim", "name used in logs")
	f.StringVar(&sc.Dialect, "dialect", "iso87ascii", "the dialect to read and answer in (see: cardswitch dialects)")
	f.StringVar(&configPath, "config", "", configFlagUsage)
	f.Int64Var(&sc.DeclineAbove, "decline-above", 0, "answer 51 above this amount (minor units); 0: never")
	f.DurationVar(&sc.Latency, "latency", 0, "delay added to every answer")
	f.StringVar(&sc.ApprovalCodePrefix, "approval-code-prefix", "", "prefix of generated approval codes (38)")
	f.IntVar(&sc.ReversalDrop, "reversal-drop", 0, "leave the first N attempts of each distinct reversal (by field 90) unanswered; 0: answer all")
	f.IntVar(&sc.DownAfter, "down-after", 0, "go down after answering N authorizations, until SIGUSR2; 0: never")
	f.StringArrayVar(&rules, "rule", nil, "rule: pan_prefix=..|pan_suffix=..|amount=N, then code=NN|delay=D|no_answer|malformed (repeatable)")
	return cmd
}

// downOnSignals takes sim down on SIGUSR1 and up on SIGUSR2 until ctx
// ends; the function it returns stops listening for them.
func downOnSignals(ctx context.Context, sim *issuersim.Sim) (stop func()) {
	downUp := make(chan os.Signal, 1)
	signal.Notify(downUp, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for {
			select {
			case sig := <-downUp:
				sim.SetDown(sig == syscall.SIGUSR1)
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { signal.Stop(downUp) }
}

// parseRule reads "pan_suffix=0051,code=51" into a SimRule.
func parseRule(s string) (config.SimRule, error) {
	var r config.SimRule
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		var err error
		switch k {
		case "pan_prefix":
			r.PANPrefix = v
		case "pan_suffix":
			r.PANSuffix = v
		case "amount":
			r.Amount, err = strconv.ParseInt(v, 10, 64)
		case "code":
			r.Code = v
		case "delay":
			r.Delay, err = time.ParseDuration(v)
		case "no_answer":
			r.NoAnswer = true
		case "malformed":
			r.Malformed = true
		default:
			return r, fmt.Errorf("unknown key %q (want pan_prefix, pan_suffix, amount, code, delay, no_answer, malformed)", k)
		}
		if err != nil {
			return r, fmt.Errorf("%s: %w", k, err)
		}
	}
	return r, nil
}
