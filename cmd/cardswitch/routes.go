package main

import (
	"errors"
	"fmt"

	"github.com/cardswitch/cardswitch/config"
	"github.com/spf13/cobra"
)

func newRoutes() *cobra.Command {
	r := &cobra.Command{Use: "routes", Short: "Check routing configs and look up PANs"}
	r.AddCommand(newRoutesCheck(), newRoutesLookup(), newRoutesDiff(), newRoutesShow())
	return r
}

func newRoutesCheck() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "check --config FILE",
		Short: "Validate a config file; one line per problem, non-zero exit if any",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				var ve *config.ValidationError
				if errors.As(err, &ve) {
					for _, l := range ve.Lines() {
						fmt.Fprintln(cmd.ErrOrStderr(), l)
					}
					return exitError{code: 1}
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (%d issuers, %d routes, %d simulators)\n",
				cfg.Source, len(cfg.Issuers), cfg.Table().Len(), len(cfg.Simulators))
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "config file to check (default: the embedded default)")
	return cmd
}

func newRoutesLookup() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "lookup --config FILE PAN",
		Short: "Show which rule and issuer a PAN routes to, and which other rules matched",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			e := cfg.Table().Explain([]byte(args[0]))
			fmt.Fprint(cmd.OutOrStdout(), e.String())
			if !e.Found {
				return exitError{code: 2}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "config file (default: the embedded default)")
	return cmd
}
