package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/spf13/cobra"
)

// newTxnAdvices lists the stand-in advices on the exception list: past
// their issuer's advice_ttl undelivered, no longer sent, kept (sealed) for
// an operator to settle with the issuer by other means.
func newTxnAdvices(loc *txnLocation) *cobra.Command {
	return &cobra.Command{
		Use:   "advices",
		Short: "Stand-in advices past advice_ttl undelivered (the exception list), and how many are still owed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			j, err := txnOpenStore(cmd, loc)
			if err != nil {
				return err
			}
			defer j.Close()
			q, err := j.AdviceQueueState()
			if err != nil {
				return err
			}
			ex, err := j.AdviceExceptions()
			if err != nil {
				return err
			}
			return txnWriteAdvices(cmd.OutOrStdout(), q, ex)
		},
	}
}

// txnWriteAdvices prints the queue's counts and the exception list, the
// PANs masked.
func txnWriteAdvices(w io.Writer, q journal.AdviceQueue, ex []journal.Reversal) error {
	fmt.Fprintf(w, "stand-in advices owed: %d", q.Owed)
	if !q.Oldest.IsZero() {
		fmt.Fprintf(w, " (oldest %s)", q.Oldest.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "; on the exception list: %d\n", q.Exceptions)
	if len(ex) == 0 {
		return nil
	}
	sc, err := iso.NewScanner(iso.Spec87())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nID\tCREATED\tISSUER\tSTAN\tRRN\tPAN\tAMOUNT\t39\t38\t60\tATTEMPTS\tEXCEPTION SINCE\tLAST ERROR")
	for _, r := range ex {
		pan, amount, code, approval, why := "?", "?", "?", "", "?"
		var v iso.View
		if r.FrameErr == nil && sc.Scan(r.Frame, &v) == nil {
			p, _ := iso.RoutingPAN(&v)
			pan, amount, code = iso.MaskPAN(p), string(v.Field(4)), string(v.Field(39))
			approval, why = string(v.Field(38)), string(v.Field(60))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.Created.UTC().Format(time.RFC3339),
			r.Issuer, r.STAN, r.RRN, pan, amount, code, txnDash(approval), why, r.Attempts,
			r.Exception.UTC().Format(time.RFC3339), txnDash(r.LastError))
	}
	return tw.Flush()
}
