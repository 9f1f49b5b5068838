package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/cardswitch/cardswitch/internal/dialectio"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/replay"
	"github.com/cardswitch/cardswitch/replay/trace"
	"github.com/spf13/cobra"
)

// replayFlags are the CLI-only settings around replay.Options.
type replayFlags struct {
	opt        replay.Options
	timing     string
	rewrite    bool
	gen        trace.GenOptions
	reportJSON string
	reportHTML string
	tls        tlsFlags
	log        *logFlags
	dialect    string
	tpdu       string
	configPath string // --config: user dialects --dialect may name
}

// maxGenerated caps the generated templates: beyond it they are reused,
// with STAN, RRN and date-time rewritten per send.
const maxGenerated = 10_000

func newReplay(lf *logFlags) *cobra.Command {
	f := &replayFlags{log: lf}
	cmd := &cobra.Command{
		Use:   "replay --target HOST:PORT [TRACE...]",
		Short: "Replay traces (or generated traffic) against a host and report latency",
		Long: `Replay sends ISO 8583 requests from trace files (JSON Lines, jPOS XML, pcap,
pcapng) or from the built-in generator, validates every response (MTI, STAN,
RRN, expected field 39) and reports throughput and latency percentiles.

Pacing: closed loop (--concurrency, the default), open loop at a fixed --rate,
or the trace's own timing (--timing recorded, --speed). In the open-loop modes
latency counts from each request's intended send time (coordinated omission
corrected). Exit status 1 when a response fails validation or timeouts plus
errors exceed --max-errors; by default (--max-errors 0) the first timeout or
error stops the run early, which the summary says ("stopped early").

jPOS logs: fixed-length fields logged shorter than the field are padded as
jPOS pads them when it packs (String fields on the right with spaces, numeric
ones on the left with zeros). Warnings about skipped parts of a trace go to
the log (--log-format, --log-level).

--dialect D sends the requests in dialect D (see 'cardswitch dialects'):
packed with D's encoding and framed with D's length header and header (a
TPDU dialect sends --tpdu, default 6000010000), and reads the answers in D.
A trace keeps its field values whatever the dialect: a 1987 dialect takes
1987 values (any trace, pcap included), a 1993 dialect 1993 values from a
JSON Lines trace or a jPOS log (MTI 1100, field 12 YYMMDDhhmmss, "expect"
a 3-digit action code); the generator writes 1987 messages only. Without
--dialect, a trace recorded by 'cardswitch record' is replayed in the
dialect it notes, else in iso87ascii.`,
		Example: `  cardswitch replay --target 127.0.0.1:8583 --rate 500 --duration 30s
  cardswitch replay --target 127.0.0.1:8583 --timing recorded --speed 2 trace.jsonl
  cardswitch replay --target 127.0.0.1:8583 --concurrency 64 --connections 4 --count 100000 --report out.json --html out.html
  cardswitch replay --target switch.example:8583 --tls-ca ca.pem --tls-cert acq.pem --tls-key acq.key trace.xml
  cardswitch replay --target 127.0.0.1:8600 --dialect iso87binary-tpdu --count 1000
  cardswitch replay --target 127.0.0.1:9101 --dialect iso93ascii trace93.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error { return f.run(cmd, args) },
	}
	fl := cmd.Flags()
	o := &f.opt
	fl.StringVar(&o.Target, "target", "127.0.0.1:8583", "host:port to send to")
	fl.StringVar(&f.timing, "timing", "", `"recorded" replays the trace's own gaps`)
	fl.Float64Var(&o.Speed, "speed", 1, "with --timing recorded: speed-up factor (2 = twice as fast)")
	fl.Float64Var(&o.Rate, "rate", 0, "open loop: requests per second")
	fl.IntVar(&o.Concurrency, "concurrency", 1, "closed loop: requests in flight (total, over all connections)")
	fl.IntVar(&o.Connections, "connections", 1, "persistent connections to spread requests over")
	fl.DurationVar(&o.Duration, "duration", 0, "stop sending after this long (default: one pass, or --count)")
	fl.IntVar(&o.Count, "count", 0, "requests to send, reusing the messages round-robin (default: one pass)")
	fl.DurationVar(&o.Warmup, "warmup", 0, "leave requests scheduled in this first span out of the statistics")
	fl.DurationVar(&o.Timeout, "timeout", 5*time.Second, "per-request timeout (counts as a timeout)")
	fl.IntVar(&o.MaxErrors, "max-errors", 0, "stop early and exit 1 once timeouts plus errors exceed this (0: at the first; -1: never)")
	fl.BoolVar(&f.rewrite, "rewrite", true, "rewrite STAN (11), RRN (37) and date-time (7) per send")
	fl.StringSliceVar(&f.gen.BINs, "bins", nil, "generator: card prefixes (default 411111,510510,222300)")
	fl.Int64Var(&f.gen.MinAmount, "amount-min", 0, "generator: smallest amount in minor units (default 100 when both are 0)")
	fl.Int64Var(&f.gen.MaxAmount, "amount-max", 0, "generator: largest amount in minor units (default 50000 when both are 0)")
	fl.Int64Var(&f.gen.Seed, "seed", 1, "generator: random seed")
	fl.StringVar(&f.reportJSON, "report", "", "write the report as JSON to this file")
	fl.StringVar(&f.reportHTML, "html", "", "write a self-contained HTML report with charts to this file")
	fl.StringVar(&f.dialect, "dialect", "", "the dialect to speak (see: cardswitch dialects; default: the trace's noted dialect, else iso87ascii)")
	fl.StringVar(&f.configPath, "config", "", configFlagUsage)
	fl.StringVar(&f.tpdu, "tpdu", "", "in a TPDU dialect: the requests' TPDU in hex (default 6000010000)")
	f.tls.add(fl)
	return cmd
}

func (f *replayFlags) run(cmd *cobra.Command, args []string) error {
	switch f.timing {
	case "":
	case "recorded":
		f.opt.Recorded = true
	default:
		return fmt.Errorf("--timing %q: want recorded (or leave it out)", f.timing)
	}
	f.opt.NoRewrite = !f.rewrite
	log, err := f.log.logger()
	if err != nil {
		return err
	}
	if f.opt.TLS, err = f.tls.config(f.opt.Target); err != nil {
		return err
	}
	if err := f.resolveDialect(args, log); err != nil {
		return err
	}
	msgs, err := f.messages(args, log)
	if err != nil {
		return err
	}
	if isTerminal(os.Stderr) {
		f.opt.Progress = cmd.ErrOrStderr()
	}
	rep, runErr := replay.Run(cmd.Context(), f.opt, msgs)
	if rep == nil {
		return runErr
	}
	if err := rep.WriteSummary(cmd.OutOrStdout()); err != nil {
		return err
	}
	if err := f.writeReports(rep); err != nil {
		return err
	}
	if rep.StoppedEarly != "" {
		why := rep.StoppedEarly
		if rep.ExceededMaxErrors {
			why += fmt.Sprintf(" (--max-errors %d; 0, the default, stops at the first timeout or error, -1 never stops)",
				f.opt.MaxErrors)
		}
		fmt.Fprintln(cmd.ErrOrStderr(), "replay stopped early:", why)
	}
	if runErr != nil {
		return runErr
	}
	if rep.Failed() {
		fmt.Fprintf(cmd.ErrOrStderr(), "replay failed: %d validation failures, %d timeouts, %d errors (--max-errors %d)\n",
			rep.ValidationFailures, rep.Timeouts, rep.Errors, f.opt.MaxErrors)
		return exitError{code: 1}
	}
	return nil
}

// messages loads the traces in order, each one's timing following the
// previous one's, or generates messages when there is no trace.
func (f *replayFlags) messages(paths []string, log *slog.Logger) ([]trace.Message, error) {
	spec, err := dialectio.TextSpec(f.opt.Dialect)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		if f.opt.Dialect.Version == 1993 {
			return nil, fmt.Errorf("--dialect %s: the generator writes ISO 8583:1987 messages; give a trace with 1993 values", f.opt.Dialect.Name)
		}
		f.gen.Count = maxGenerated
		if f.opt.Count > 0 {
			f.gen.Count = min(f.opt.Count, maxGenerated)
		}
		if err := f.gen.Validate(); err != nil {
			return nil, fmt.Errorf("generator: %w", err)
		}
		msgs := trace.Generate(f.gen)
		if len(msgs) == 0 {
			return nil, fmt.Errorf("generator produced no messages")
		}
		return msgs, nil // Run sends one pass unless --count or --duration says otherwise
	}
	var all []trace.Message
	var offset time.Duration
	for _, p := range paths {
		msgs, _, err := trace.LoadLogSpec(p, log, spec)
		if err != nil {
			return nil, err
		}
		var last time.Duration
		for i := range msgs {
			if msgs[i].At >= 0 {
				last = max(last, msgs[i].At)
				msgs[i].At += offset
			}
		}
		offset += last
		all = append(all, msgs...)
	}
	return all, nil
}

func (f *replayFlags) writeReports(rep *replay.Report) error {
	if f.reportJSON != "" {
		if err := writeReportFile(f.reportJSON, func(w io.Writer) error { return rep.WriteJSON(w) }); err != nil {
			return err
		}
	}
	if f.reportHTML != "" {
		return writeReportFile(f.reportHTML, rep.WriteHTML)
	}
	return nil
}

func writeReportFile(path string, write func(io.Writer) error) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(fh); err != nil {
		_ = fh.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return fh.Close()
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// resolveDialect sets the dialect from --dialect, else from the first
// trace's note (a trace recorded by `cardswitch record`), else iso87ascii,
// and the TPDU from --tpdu.
func (f *replayFlags) resolveDialect(paths []string, log *slog.Logger) error {
	name := f.dialect
	for _, p := range paths {
		noted, err := trace.NotedDialect(p)
		if err != nil || noted == "" {
			continue
		}
		if name == "" {
			name = noted
			log.Info("replaying in the dialect the trace notes", "trace", p, "dialect", noted)
		} else if noted != name {
			log.Warn("the trace notes another dialect; --dialect wins", "trace", p, "noted", noted, "dialect", name)
		}
	}
	d, err := lookupDialect(name, f.configPath)
	if err != nil {
		return fmt.Errorf("--dialect: %w", err)
	}
	f.opt.Dialect = d
	if f.tpdu == "" {
		return nil
	}
	if d.Framing.Header != iso.HeaderTPDU {
		return fmt.Errorf("--tpdu: dialect %s has no TPDU header", d.Name)
	}
	b, err := hex.DecodeString(f.tpdu)
	if err != nil || len(b) != iso.TPDULen || b[0] != 0x60 {
		return fmt.Errorf("--tpdu %q: want 10 hex digits starting 60 (ID 60, destination NII, source NII)", f.tpdu)
	}
	f.opt.TPDU = b
	return nil
}
