package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cardswitch/cardswitch/iso"
)

func newDialects() *cobra.Command {
	return &cobra.Command{
		Use:   "dialects",
		Short: "List the built-in ISO 8583 dialects and the jPOS packager and channel each matches",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), dialectTable(iso.BuiltinDialects()))
			return err
		},
	}
}

// dialectTable is one row per dialect under a header row.
func dialectTable(ds []iso.Dialect) string {
	rows := [][]string{{"NAME", "VERSION", "LENGTH", "HEADER", "SPEC", "JPOS"}}
	for _, d := range ds {
		hdr := d.Framing.HeaderString()
		if hdr == "" {
			hdr = "-"
		}
		rows = append(rows, []string{d.Name, strconv.Itoa(d.Version), d.Framing.Length.String(), hdr, "specs/" + d.SpecFile, d.JPOS})
	}
	var b strings.Builder
	writeColumns(&b, rows)
	return b.String()
}
