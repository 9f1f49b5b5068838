package switchd

import (
	"context"
	"fmt"
	"time"

	"github.com/cardswitch/cardswitch/switch/journal"
)

// openJournal opens the journal (when configured), refills the duplicate
// cache from it and prepares the reversal queue.
func (s *Switch) openJournal() error {
	jc := s.cfg.Journal
	if jc.Path == "" {
		return nil
	}
	j, err := journal.Open(jc.Path, journal.Options{Log: s.log, Sync: jc.Sync, WriteFailed: s.journalLost, Retention: jc.Retention})
	if err != nil {
		return fmt.Errorf("journal %s: %w", jc.Path, err)
	}
	s.jrnl = j
	s.dups = newDupCache(jc.DuplicateWindow)
	keys, err := j.RecentKeys(time.Now().Add(-jc.DuplicateWindow))
	if err != nil {
		_ = j.Close()
		return fmt.Errorf("journal %s: reading recent requests: %w", jc.Path, err)
	}
	for _, k := range keys {
		if reachedIssuer(k) {
			s.dups.check(s.dups.keyOf(k, k.MTI), k.Time)
		}
	}
	s.revs = newReversalMgr(s, j)
	pending, _ := j.ReversalCount()
	s.log.Info("journal open", "path", jc.Path, "recent_requests", len(keys), "reversals_owed", pending)
	return nil
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
	return k.Outcome != journal.SwitchDeclined || k.ResponseCode == CodeSystemError
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
