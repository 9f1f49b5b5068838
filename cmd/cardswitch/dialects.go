package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
)

func newDialects() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "dialects [--config FILE]",
		Short: "List the ISO 8583 dialects (built-in, and a config's own) and the jPOS packager and channel each matches",
		Long: `dialects lists the built-in dialects: name, version, length framing,
header, spec file and the jPOS packager and channel each matches. With
--config FILE it also lists FILE's user-defined dialects (dialects:), their
spec files as FILE names them resolved against FILE's folder; the config
must be valid, as for serve.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows := dialectRows(iso.BuiltinDialects())
			if configPath != "" {
				cfg, err := config.Load(configPath)
				if err != nil {
					return fmt.Errorf("--config: %w", err)
				}
				rows = append(rows, userDialectRows(cfg, configPath)...)
			}
			var b strings.Builder
			writeColumns(&b, append([][]string{{"NAME", "VERSION", "LENGTH", "HEADER", "SPEC", "JPOS"}}, rows...))
			_, err := fmt.Fprint(cmd.OutOrStdout(), b.String())
			return err
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "also list this config file's own dialects")
	return cmd
}

// dialectRows is one row per built-in dialect.
func dialectRows(ds []iso.Dialect) [][]string {
	var rows [][]string
	for _, d := range ds {
		rows = append(rows, dialectRow(d, "specs/"+d.SpecFile, d.JPOS))
	}
	return rows
}

// userDialectRows is one row per user-defined dialect of cfg, read from
// the file at path.
func userDialectRows(cfg *config.Config, path string) [][]string {
	var rows [][]string
	for _, cd := range cfg.Dialects {
		d, ok := cfg.LookupDialect(cd.Name)
		if !ok {
			continue // a valid config has loaded every one
		}
		rows = append(rows, dialectRow(d, cd.Spec, "- (user-defined in "+path+")"))
	}
	return rows
}

func dialectRow(d iso.Dialect, spec, jpos string) []string {
	hdr := d.Framing.HeaderString()
	if hdr == "" {
		hdr = "-"
	}
	return []string{d.Name, strconv.Itoa(d.Version), d.Framing.Length.String(), hdr, spec, jpos}
}
