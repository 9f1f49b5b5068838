package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/keyfile"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/spf13/cobra"
)

// txnLocation is where the txn commands look for the journal.
type txnLocation struct {
	journal string // --journal
	config  string // --config
}

// find names the journal the way serve does: the config file's settings
// (environment overrides included), else CARDSWITCH_JOURNAL_PATH, else
// --journal. An explicit --journal that the others would override is an
// error, so that a query never reads another journal than the one named.
func (l *txnLocation) find(cmd *cobra.Command) (string, [][32]byte, error) {
	explicit := cmd.Flag("journal").Changed
	env := config.EnvName("journal.path")
	if l.config != "" {
		if explicit {
			return "", nil, errors.New("--journal and --config both name the journal: give one")
		}
		cfg, err := loadConfig(l.config)
		if err != nil {
			return "", nil, err
		}
		if cfg.Journal.Path == "" {
			return "", nil, fmt.Errorf("%s: journal.path is not set: this switch keeps no journal", l.config)
		}
		return cfg.Journal.Path, txnKeys(cmd, cfg.Journal), nil
	}
	if p := os.Getenv(env); p != "" {
		if explicit && l.journal != p {
			return "", nil, fmt.Errorf("--journal %s and %s=%s name different journals: give one", l.journal, env, p)
		}
		return p, txnKeys(cmd, config.Journal{Path: p}), nil
	}
	return l.journal, txnKeys(cmd, config.Journal{Path: l.journal}), nil
}

// txnKeys reads the journal's keys as the switch does (journal.key_file,
// else the key file beside the journal), so that stored messages open. No
// query needs them, so a key that cannot be read is a warning.
func txnKeys(cmd *cobra.Command, jc config.Journal) [][32]byte {
	path := jc.KeyFile
	if path == "" {
		path = jc.Path + switchd.KeyFileSuffix
	}
	ks, err := keyfile.Load(path)
	if err != nil {
		if jc.KeyFile != "" || !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: journal key: %v\n", err)
		}
		return nil
	}
	out := make([][32]byte, len(ks))
	for i := range ks {
		out[i] = ks[i]
	}
	return out
}

// findPostgres returns the PostgreSQL DSN the queries read, "" for none,
// and the journal's keys (the stored advices open with them): the config
// file's journal.postgres and journal.key_file (environment overrides
// included), else, without --config, CARDSWITCH_JOURNAL_POSTGRES and
// CARDSWITCH_JOURNAL_KEY_FILE. --journal (a SQLite file) given with one
// is refused, as with find.
func (l *txnLocation) findPostgres(cmd *cobra.Command) (string, [][32]byte, error) {
	dsn := os.Getenv(config.EnvName("journal.postgres"))
	keyFile := os.Getenv(config.EnvName("journal.key_file"))
	if l.config != "" {
		cfg, err := loadConfig(l.config)
		if err != nil {
			return "", nil, err
		}
		dsn, keyFile = cfg.Journal.Postgres, cfg.Journal.KeyFile
	}
	if dsn != "" && cmd.Flag("journal").Changed {
		return "", nil, errors.New("--journal names a SQLite journal, and the config or " +
			config.EnvName("journal.postgres") + " a PostgreSQL one: give one")
	}
	if dsn == "" || keyFile == "" {
		return dsn, nil, nil
	}
	return dsn, txnKeys(cmd, config.Journal{KeyFile: keyFile}), nil
}
