package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/spf13/cobra"
)

// txnDefaultJournal is where txn commands look when neither --config nor
// CARDSWITCH_JOURNAL_PATH names the journal: the embedded default's
// journal.path.
const txnDefaultJournal = "cardswitch.db"

// newTxn groups the journal queries. Every subcommand opens the journal
// read-only, so it is safe to run while the switch writes.
func newTxn() *cobra.Command {
	loc := &txnLocation{}
	c := &cobra.Command{
		Use:   "txn",
		Short: "Query the transaction journal (read-only; safe while the switch runs)",
		Long: `Query the transaction journal (read-only; safe while the switch runs).

The journal is found as 'serve' finds it:
  1. --config FILE: the file's journal.path and journal.key_file (relative
     paths from the file's folder), with the CARDSWITCH_* overrides serve applies;
  2. else CARDSWITCH_JOURNAL_PATH;
  3. else --journal (default cardswitch.db, the embedded default's journal).
--journal given with --config, or different from CARDSWITCH_JOURNAL_PATH, is
refused rather than silently overridden.`,
	}
	c.PersistentFlags().StringVar(&loc.journal, "journal", txnDefaultJournal,
		"journal file, when neither --config nor CARDSWITCH_JOURNAL_PATH names one")
	c.PersistentFlags().StringVar(&loc.config, "config", "", "the switch's config file: use its journal settings")
	c.AddCommand(newTxnList(loc), newTxnShow(loc), newTxnStats(loc), newTxnAdvices(loc))
	return c
}

func newTxnList(loc *txnLocation) *cobra.Command {
	var f journal.Filter
	var since, outcome string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List journal entries, newest first (in the order their answers were given)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if f.Since, err = txnParseSince(since, time.Now()); err != nil {
				return err
			}
			if f.Outcome, err = txnParseOutcome(outcome); err != nil {
				return err
			}
			j, err := txnOpenStore(cmd, loc)
			if err != nil {
				return err
			}
			defer j.Close()
			es, err := j.List(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				return txnWriteJSON(cmd.OutOrStdout(), es)
			}
			return txnWriteTable(cmd.OutOrStdout(), es)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&since, "since", "", "only entries since a DURATION ago (15m, 24h) or an RFC 3339 TIME")
	fl.StringVar(&f.RRN, "rrn", "", "retrieval reference number (field 37)")
	fl.StringVar(&f.STAN, "stan", "", "system trace audit number (field 11)")
	fl.StringVar(&f.Issuer, "issuer", "", "issuer name")
	fl.StringVar(&f.Code, "code", "", "response code (field 39)")
	fl.StringVar(&outcome, "outcome", "", "approved, declined, switch-declined, timed-out, late, reversed, duplicate, unmatched, stand-in or advised")
	fl.IntVar(&f.Limit, "limit", 100, "most entries to print")
	fl.BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

func newTxnShow(loc *txnLocation) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one journal entry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("txn show: ID %q: want an entry number", args[0])
			}
			j, err := txnOpenStore(cmd, loc)
			if err != nil {
				return err
			}
			defer j.Close()
			e, err := j.Get(cmd.Context(), id)
			if err != nil {
				return err
			}
			if asJSON {
				return txnWriteJSON(cmd.OutOrStdout(), []journal.Entry{e})
			}
			return txnWriteDetail(cmd.OutOrStdout(), e)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	return cmd
}

func newTxnStats(loc *txnLocation) *cobra.Command {
	var since string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Counts, approval rate and latency percentiles by issuer and by response code",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := txnParseSince(since, time.Now())
			if err != nil {
				return err
			}
			j, err := txnOpenStore(cmd, loc)
			if err != nil {
				return err
			}
			defer j.Close()
			st, err := j.Stats(cmd.Context(), t)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(txnStatsJSON(st))
			}
			return txnWriteStats(cmd.OutOrStdout(), st)
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only entries since a DURATION ago (15m, 24h) or an RFC 3339 TIME (default: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	return cmd
}

// txnParseSince accepts a duration back from now or an absolute RFC 3339 time.
func txnParseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a positive duration (15m, 24h) or an RFC 3339 time (2025-03-01T12:00:00Z)", s)
}

var txnOutcomes = []journal.Outcome{journal.Approved, journal.Declined, journal.SwitchDeclined,
	journal.TimedOut, journal.Late, journal.Reversed, journal.Duplicate, journal.Unmatched, journal.StandIn, journal.Advised}

func txnParseOutcome(s string) (journal.Outcome, error) {
	if s == "" {
		return "", nil
	}
	for _, o := range txnOutcomes {
		if string(o) == s {
			return o, nil
		}
	}
	return "", fmt.Errorf("--outcome %q: want one of %v", s, txnOutcomes)
}

// txnPAN re-masks on the way out: defense in depth, the journal only
// stores masked PANs.
func txnPAN(pan string) string { return iso.MaskPAN([]byte(pan)) }

// txnRecord is the --json shape of an entry (one object per line).
type txnRecord struct {
	ID               int64   `json:"id"`
	Time             string  `json:"time"` // RFC 3339, UTC
	Acquirer         string  `json:"acquirer"`
	Conn             uint64  `json:"conn"`
	Remote           string  `json:"remote"`
	Issuer           string  `json:"issuer"`
	MTI              string  `json:"mti"`
	ProcessingCode   string  `json:"processing_code"`
	STAN             string  `json:"stan"`
	RRN              string  `json:"rrn"`
	Terminal         string  `json:"terminal"`
	TransmissionTime string  `json:"transmission_time"`
	PAN              string  `json:"pan"` // masked
	Amount           string  `json:"amount"`
	Currency         string  `json:"currency"`
	ResponseCode     string  `json:"response_code"`
	Outcome          string  `json:"outcome"`
	Reason           string  `json:"reason"`
	LatencyMS        float64 `json:"latency_ms"`
	AcquirerDialect  string  `json:"acquirer_dialect"`
	IssuerDialect    string  `json:"issuer_dialect"` // "" when not routed
	Node             string  `json:"node,omitempty"` // the switch node that wrote it (PostgreSQL)
}

func txnRecordOf(e journal.Entry) txnRecord {
	return txnRecord{
		ID: e.ID, Time: e.Time.UTC().Format(time.RFC3339Nano), Acquirer: e.Acquirer, Conn: e.Conn, Remote: e.Remote,
		Issuer: e.Issuer, MTI: e.MTI, ProcessingCode: e.ProcessingCode, STAN: e.STAN, RRN: e.RRN,
		Terminal: e.Terminal, TransmissionTime: e.TransmissionTime, PAN: txnPAN(e.PAN), Amount: e.Amount,
		Currency: e.Currency, ResponseCode: e.ResponseCode, Outcome: string(e.Outcome), Reason: e.Reason,
		LatencyMS: txnMillis(e.Latency), AcquirerDialect: txnAcquirerDialect(e), IssuerDialect: txnIssuerDialect(e),
		Node: e.Node,
	}
}

// txnAcquirerDialect is the dialect the request came in: the journal
// records "" for iso87ascii (and every entry before dialects existed).
func txnAcquirerDialect(e journal.Entry) string {
	if e.AcquirerDialect == "" {
		return config.DefaultDialect
	}
	return e.AcquirerDialect
}

// txnIssuerDialect is the dialect the request went out in, "" when it was
// not routed.
func txnIssuerDialect(e journal.Entry) string {
	switch {
	case e.Issuer == "":
		return ""
	case e.IssuerDialect == "":
		return config.DefaultDialect
	}
	return e.IssuerDialect
}

func txnMillis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func txnWriteJSON(w io.Writer, es []journal.Entry) error {
	enc := json.NewEncoder(w)
	for _, e := range es {
		if err := enc.Encode(txnRecordOf(e)); err != nil {
			return err
		}
	}
	return nil
}

const txnTableTime = "2006-01-02T15:04:05.000Z07:00"

// txnWriteTable prints es as a table; with a NODE column when the journal
// is shared by nodes (PostgreSQL: entries name their node).
func txnWriteTable(w io.Writer, es []journal.Entry) error {
	nodes := slices.ContainsFunc(es, func(e journal.Entry) bool { return e.Node != "" })
	node := func(e journal.Entry) string {
		if !nodes {
			return ""
		}
		return txnDash(e.Node) + "\t"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "ID\tTIME\tACQUIRER\tISSUER\tMTI\tSTAN\tRRN\tTERMINAL\tPAN\tAMOUNT\tCUR\tCODE\tOUTCOME\tLATENCY"
	if nodes {
		head = "ID\tNODE\t" + strings.TrimPrefix(head, "ID\t")
	}
	fmt.Fprintln(tw, head)
	for _, e := range es {
		fmt.Fprintf(tw, "%d\t%s%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, node(e),
			e.Time.UTC().Format(txnTableTime), txnDash(e.Acquirer), txnDash(e.Issuer), e.MTI, e.STAN, e.RRN, txnDash(e.Terminal),
			txnDash(txnPAN(e.PAN)), txnDash(e.Amount), txnDash(e.Currency), txnDash(e.ResponseCode), e.Outcome, e.Latency)
	}
	return tw.Flush()
}

func txnWriteDetail(w io.Writer, e journal.Entry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	code := e.ResponseCode
	if t := iso.CodeText(code); t != "" {
		code += " (" + t + ")"
	}
	kvs := [][2]string{
		{"id", fmt.Sprint(e.ID)}, {"time", e.Time.UTC().Format(time.RFC3339Nano)},
		{"acquirer", txnDash(e.Acquirer)}, {"conn", fmt.Sprint(e.Conn)}, {"remote", txnDash(e.Remote)},
		{"issuer", txnDash(e.Issuer)}, {"mti", e.MTI}, {"processing code", txnDash(e.ProcessingCode)},
		{"amount", txnDash(e.Amount)}, {"currency", txnDash(e.Currency)}, {"stan", e.STAN}, {"rrn", e.RRN},
		{"terminal", txnDash(e.Terminal)}, {"transmission time", txnDash(e.TransmissionTime)},
		{"pan", txnDash(txnPAN(e.PAN))}, {"response code", txnDash(code)}, {"outcome", string(e.Outcome)},
		{"reason", txnDash(e.Reason)}, {"latency", e.Latency.String()},
		{"acquirer dialect", txnAcquirerDialect(e)}, {"issuer dialect", txnDash(txnIssuerDialect(e))},
	}
	if e.Node != "" {
		kvs = append(kvs, [2]string{"node", e.Node}) // the switch node that wrote it (PostgreSQL)
	}
	for _, kv := range kvs {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

func txnWriteStats(w io.Writer, st journal.Stats) error {
	since := "all entries"
	if !st.Since.IsZero() {
		since = "since " + st.Since.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "%s: %d transactions, %d approved (%.2f%%)\n", since, st.Total, st.Approved, 100*st.ApprovalRate)
	if st.StandIn > 0 || st.LateAfterStandIn > 0 {
		fmt.Fprintf(w, "stand-in: %d decisions, %d approved; %d late issuer answers, %d disagreeing\n",
			st.StandIn, st.StandInApproved, st.LateAfterStandIn, st.LateDisagreed)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, g := range []struct {
		title  string
		groups []journal.GroupStats
	}{{"ISSUER", st.ByIssuer}, {"CODE", st.ByCode}, {"NODE", st.ByNode}} {
		if g.title == "NODE" && len(g.groups) == 0 {
			continue // SQLite: one node
		}
		fmt.Fprintf(tw, "\n%s\tCOUNT\tAPPROVED\tP50\tP90\tP99\tMAX\n", g.title)
		for _, s := range g.groups {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\n", txnDash(s.Key), s.Count, s.Approved, s.P50, s.P90, s.P99, s.Max)
		}
	}
	return tw.Flush()
}

// txnStatsJSON is the --json shape of stats; latencies in milliseconds.
func txnStatsJSON(st journal.Stats) any {
	type group struct {
		Key      string  `json:"key"`
		Count    int     `json:"count"`
		Approved int     `json:"approved"`
		P50      float64 `json:"p50_ms"`
		P90      float64 `json:"p90_ms"`
		P99      float64 `json:"p99_ms"`
		Max      float64 `json:"max_ms"`
	}
	conv := func(gs []journal.GroupStats) []group {
		out := make([]group, 0, len(gs))
		for _, g := range gs {
			out = append(out, group{g.Key, g.Count, g.Approved, txnMillis(g.P50), txnMillis(g.P90), txnMillis(g.P99), txnMillis(g.Max)})
		}
		return out
	}
	var since string
	if !st.Since.IsZero() {
		since = st.Since.UTC().Format(time.RFC3339Nano)
	}
	return struct {
		Since        string  `json:"since,omitempty"`
		Total        int     `json:"total"`
		Approved     int     `json:"approved"`
		ApprovalRate float64 `json:"approval_rate"`
		ByIssuer     []group `json:"by_issuer"`
		ByCode       []group `json:"by_code"`
		ByNode       []group `json:"by_node,omitempty"`
		StandIn      int     `json:"stand_in"`
		StandInOK    int     `json:"stand_in_approved"`
		Late         int     `json:"late_after_stand_in"`
		Disagreed    int     `json:"late_disagreed"`
	}{since, st.Total, st.Approved, st.ApprovalRate, conv(st.ByIssuer), conv(st.ByCode), conv(st.ByNode),
		st.StandIn, st.StandInApproved, st.LateAfterStandIn, st.LateDisagreed}
}

func txnDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// txnOpenStore opens the journal the queries read: PostgreSQL when the
// config (or, without --config, CARDSWITCH_JOURNAL_POSTGRES) names one,
// read-only, every node's entries; else the SQLite journal (txnOpen).
func txnOpenStore(cmd *cobra.Command, loc *txnLocation) (journal.Store, error) {
	dsn, keys, err := loc.findPostgres(cmd)
	if err != nil {
		return nil, err
	}
	if dsn != "" {
		return journal.OpenPG(cmd.Context(), dsn, journal.PGOptions{Node: "txn", ReadOnly: true, Keys: keys})
	}
	return txnOpen(cmd, loc)
}

// txnOpen opens the journal read-only and says on stderr how far its
// index lags its log: the queries read those entries from the log (a
// switch's indexer behind under a peak, or a switch that crashed before
// indexing them and indexes them when it starts).
func txnOpen(cmd *cobra.Command, loc *txnLocation) (*journal.Journal, error) {
	path, keys, err := loc.find(cmd)
	if err != nil {
		return nil, err
	}
	j, err := journal.OpenReadOnly(path, keys...)
	if err != nil {
		return nil, err
	}
	if n, age, err := j.IndexBehind(cmd.Context()); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %v\n", err)
	} else if n > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "index %d entries / %.1f s behind the log; those entries read from the log\n",
			n, age.Seconds())
	}
	return j, nil
}
