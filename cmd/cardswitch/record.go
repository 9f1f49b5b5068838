package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cardswitch/cardswitch/internal/dialectio"
	"github.com/cardswitch/cardswitch/replay/record"
	"github.com/spf13/cobra"
)

func newRecord() *cobra.Command {
	var (
		o          record.Options
		out        string
		dialect    string
		configPath string // --config: user dialects --dialect may name
	)
	cmd := &cobra.Command{
		Use:   "record --listen ADDR --upstream ADDR --out FILE [--keep-pan]",
		Short: "Record a replayable trace with a transparent proxy",
		Long: `Run a transparent TCP proxy for ISO 8583 (2-byte length header): point
acquirers at --listen, and every frame is relayed to --upstream and back
unchanged. Each request is written to --out as a JSON Lines trace line with
"t" (seconds since the first request) and "expect" (the response's field 39),
ready for 'cardswitch replay'.

Unless --keep-pan, PANs are replaced by Luhn-valid numbers with the same
first 6 and last 4 digits and length (the same card always gets the same
stand-in), and track 2 is dropped. Tracks 1 and 3, PIN blocks (52) and ICC
data (55) are never recorded. SIGINT or SIGTERM stops the proxy and writes
requests still unanswered without "expect".

--dialect D proxies dialect D (see 'cardswitch dialects'): frames are read
and passed on with D's length header and header (a TPDU unchanged) and
decoded with D's spec. The trace keeps the field values, as in every
trace (1993 values for a 1993 dialect), and its first line is the comment
"# dialect: D", which 'cardswitch replay' follows unless --dialect says
otherwise.`,
		Example: `  cardswitch record --listen 127.0.0.1:9583 --upstream 127.0.0.1:8583 --out trace.jsonl
  cardswitch record --listen 127.0.0.1:9600 --upstream 127.0.0.1:8600 --dialect iso87binary-tpdu --out pos.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := inheritedLogFlags(cmd).logger()
			if err != nil {
				return err
			}
			if o.Dialect, err = lookupDialect(dialect, configPath); err != nil {
				return fmt.Errorf("--dialect: %w", err)
			}
			w, closeOut, err := openOut(cmd, out)
			if err != nil {
				return err
			}
			o.Out, o.Log = w, log
			p, err := record.New(o)
			if err != nil {
				_ = closeOut()
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			go func() { <-ctx.Done(); _ = p.Close() }()
			log.Info("recording", "listen", p.Addr(), "upstream", o.Upstream, "out", out, "keep_pan", o.KeepPAN,
				"dialect", o.Dialect.Name)
			serveErr := p.Serve()
			closeErr := p.Close()
			if err := closeOut(); err != nil && closeErr == nil {
				closeErr = err
			}
			log.Info("recording stopped", "requests", p.Recorded(), "out", out)
			if serveErr != nil {
				return serveErr
			}
			return closeErr
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:9583", "address acquirers connect to")
	f.StringVar(&o.Upstream, "upstream", "", "host to relay to (the switch or an issuer)")
	f.StringVar(&out, "out", "", `trace file to write (JSON Lines); "-" for stdout`)
	f.BoolVar(&o.KeepPAN, "keep-pan", false, "record PANs and track 2 as they are (test cards only)")
	f.DurationVar(&o.AnswerWait, "answer-wait", record.DefaultAnswerWait, "how long a request waits for its response before it is written without \"expect\"")
	f.StringVar(&dialect, "dialect", dialectio.Default, "the dialect both sides speak (see: cardswitch dialects)")
	f.StringVar(&configPath, "config", "", configFlagUsage)
	_ = cmd.MarkFlagRequired("upstream")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// inheritedLogFlags reads the root's --log-format and --log-level, so the
// command works whether or not it is wired under the root.
func inheritedLogFlags(cmd *cobra.Command) *logFlags {
	lf := &logFlags{format: "text", level: "info"}
	if v, err := cmd.Flags().GetString("log-format"); err == nil {
		lf.format = v
	}
	if v, err := cmd.Flags().GetString("log-level"); err == nil {
		lf.level = v
	}
	return lf
}

// openOut opens the trace output: a new file (truncated) or stdout.
func openOut(cmd *cobra.Command, path string) (io.Writer, func() error, error) {
	if path == "-" {
		return cmd.OutOrStdout(), func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--out: %w", err)
	}
	return f, f.Close, nil
}
