package main

import (
	"github.com/cardswitch/cardswitch/config"
	"github.com/spf13/cobra"
)

func newConfigCmd() *cobra.Command {
	cfg := &cobra.Command{Use: "config", Short: "Configuration helpers"}
	cfg.AddCommand(&cobra.Command{
		Use:   "default",
		Short: "Print the embedded default configuration (what 'serve' runs without --config)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(config.DefaultYAML)
			return err
		},
	})
	return cfg
}
