package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/cardswitch/cardswitch/config"
	"github.com/spf13/cobra"
)

// newRoutesDiff is `cardswitch routes diff OLD NEW`. Exit status, like
// diff(1): 0 no differences, 1 differences, 2 a config could not be loaded.
func newRoutesDiff() *cobra.Command {
	return &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show what changes from config OLD to NEW: rules, BIN spans that move, issuers, restart-only keys",
		Long: `Compares two config files. Prints added (+), removed (-) and changed (~) rules,
the BIN spans whose issuer changes (longest-match and default_issuer included),
issuers added, removed or changed, and changed keys that need a restart.
Exits 0 when there are no differences, 1 when there are, 2 when a file is invalid.`,
		Args: cobra.ExactArgs(2),
		// The exit status is the answer, not a failure to explain; set here
		// too so that the command behaves the same outside the root command.
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			old, err := loadForDiff(cmd.ErrOrStderr(), args[0])
			if err != nil {
				return err
			}
			new, err := loadForDiff(cmd.ErrOrStderr(), args[1])
			if err != nil {
				return err
			}
			d := config.Diff(old, new)
			if d.Empty() {
				return nil
			}
			fmt.Fprint(cmd.OutOrStdout(), d.String())
			return exitError{code: 1}
		},
	}
}

// loadForDiff loads path, printing every problem on w; a failure is exit 2.
func loadForDiff(w io.Writer, path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err == nil {
		return cfg, nil
	}
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		for _, l := range ve.Lines() {
			fmt.Fprintln(w, l)
		}
	} else {
		fmt.Fprintln(w, "cardswitch:", err)
	}
	return nil, exitError{code: 2}
}
