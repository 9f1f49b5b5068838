package switchd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/keyfile"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
)

// openJournal opens the journal (when configured: SQLite or
// PostgreSQL), refills the duplicate cache from it and prepares the
// reversal queue.
func (s *Switch) openJournal(cfg *config.Config, hold time.Duration) error {
	jc := cfg.Journal
	if jc.Path == "" && jc.Postgres == "" {
		return nil
	}
	sealKeys, err := s.journalKeys(jc)
	if err != nil {
		return err
	}
	j, where, err := s.openStore(cfg, sealKeys, hold)
	if err != nil {
		return err
	}
	s.jrnl = j
	s.claims, _ = j.(claimer)
	s.dups = newDupCache(jc.DuplicateWindow)
	keys, err := j.RecentKeys(time.Now().Add(-jc.DuplicateWindow))
	if err != nil {
		_ = j.Close()
		return fmt.Errorf("journal %s: reading recent requests: %w", where, err)
	}
	for _, k := range keys {
		if reachedIssuer(k) {
			s.dups.check(s.dups.keyOf(k, k.MTI), k.Time)
		}
	}
	s.revs = newReversalMgr(s, j)
	pending, _ := j.ReversalCount()
	s.log.Info("journal open", "journal", where, "node", cfg.Cluster.Node, "recent_requests", len(keys),
		"reversals_owed", pending)
	s.reportLocked(j)
	return nil
}

// pgOpenTimeout bounds connecting to PostgreSQL and migrating its schema
// at start.
const pgOpenTimeout = time.Minute

// openStore opens the configured backend and names it for logs and
// errors (a PostgreSQL DSN with its password masked).
func (s *Switch) openStore(cfg *config.Config, keys [][32]byte, hold time.Duration) (journal.Store, string, error) {
	jc := cfg.Journal
	if jc.Postgres != "" {
		where := "postgres " + journal.MaskDSN(jc.Postgres)
		ctx, cancel := context.WithTimeout(context.Background(), pgOpenTimeout)
		defer cancel()
		spool := jc.Spool
		if spool == "" {
			spool = "cardswitch-" + strings.ReplaceAll(cfg.Cluster.Node, "/", "_") + ".spool"
		}
		j, err := journal.OpenPG(ctx, jc.Postgres, journal.PGOptions{Node: cfg.Cluster.Node, Log: s.log,
			WriteFailed: s.journalLost, Keys: keys, Reverse: s.reverseUnfinished, Lease: cfg.Cluster.Lease,
			DupWindow: jc.DuplicateWindow, Report: s.nodeReport, Spool: spool})
		if err != nil {
			return nil, where, err // names journal.postgres and the masked DSN
		}
		return j, where, nil
	}
	j, err := journal.Open(jc.Path, journal.Options{Log: s.log, Sync: jc.Sync, WriteFailed: s.journalLost,
		Retention: jc.Retention, Keys: keys, Reverse: s.reverseUnfinished, InFlightHold: hold,
		IndexLagMax: jc.IndexLagMax, IndexGate: s.indexGate})
	if err != nil {
		return nil, jc.Path, fmt.Errorf("journal %s: %w", jc.Path, err)
	}
	return j, jc.Path, nil
}

// KeyFileSuffix names the key file created beside a journal when
// journal.key_file is not set: <journal.path>.key.
const KeyFileSuffix = ".key"

// journalKeys reads the stored messages' keys: journal.key_file, else the
// key file beside the journal, created with one random key when missing.
func (s *Switch) journalKeys(jc config.Journal) ([][32]byte, error) {
	path := jc.KeyFile
	if path == "" {
		path = jc.Path + KeyFileSuffix
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("journal %s: folder: %w", jc.Path, err)
		}
		if _, err := keyfile.Create(path); err == nil {
			s.log.Info("journal key created: stored reversals and advices are encrypted with it; back it up, "+
				"apart from the journal's backups", "key_file", path)
		} else if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("journal %s: %w", jc.Path, err)
		}
	}
	ks, err := keyfile.Load(path)
	if err != nil {
		return nil, fmt.Errorf("journal.key_file: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		s.log.Warn("journal key file is accessible to other users: make it 0600", "key_file", path,
			"mode", fmt.Sprintf("%04o", st.Mode().Perm()))
	}
	out := make([][32]byte, len(ks))
	for i := range ks {
		out[i] = ks[i]
	}
	return out, nil
}

// reportLocked names every stored message whose key is not configured: it
// cannot be sent, and stays stored until its key is back.
func (s *Switch) reportLocked(j journal.Store) {
	locked, err := j.LockedReversals()
	if err != nil {
		s.log.Error("cannot list stored messages", "err", err)
		return
	}
	s.lockedReversals.Store(int64(len(locked)))
	if len(locked) == 0 {
		return
	}
	for _, rv := range locked {
		s.log.Error("stored message cannot be decrypted: its key is not in journal.key_file; kept, not sent, "+
			"until the key is back", "id", rv.ID, "issuer", rv.Issuer, "stan", rv.STAN, "rrn", rv.RRN,
			"created", rv.Created.Format(time.RFC3339), "err", rv.FrameErr)
	}
	s.log.Error("stored messages without their key: put the missing key back in journal.key_file (any line "+
		"after the first) and restart", "count", len(locked))
}

// closeJournal stops the reversal queue and closes the journal; what was
// appended is written and indexed first.
func (s *Switch) closeJournal() {
	if s.revs != nil {
		s.revs.stop()
	}
	if s.jrnl != nil {
		if err := s.jrnl.Close(); err != nil {
			s.log.Error("closing the journal", "err", err)
		}
	}
}

// reachedIssuer: only requests an issuer saw make a retry a duplicate. The
// switch's own refusals (15, 30, 58, 65, 91 without a live link or while
// shutting down) were never sent; its 96 answers an unreadable issuer
// response, so that request was.
func reachedIssuer(k journal.DupKey) bool {
	return k.Outcome != journal.SwitchDeclined || k.ResponseCode == string(iso.CodeSystemError)
}

// pruneEvery is how often journal.retention is applied.
const pruneEvery = time.Hour

// prune deletes journal entries older than journal.retention (read from
// the live config, so a reload changes it), at start and then hourly,
// until ctx ends.
func (s *Switch) prune(ctx context.Context) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		if keep := s.live().Journal.Retention; keep > 0 {
			n, err := s.jrnl.Prune(ctx, time.Now().Add(-keep))
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Error("journal retention: prune failed", "err", err)
			case n > 0:
				s.log.Info("journal retention: old entries deleted", "entries", n, "retention", keep)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
