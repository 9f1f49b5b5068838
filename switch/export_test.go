package switchd

import "context"

// FlushJournal returns once every entry journaled before the call is
// visible to queries (the txn commands, OpenReadOnly): answers wait only
// for the journal's log, and its SQLite index follows behind. Without a
// journal it returns at once.
func (s *Switch) FlushJournal(ctx context.Context) error {
	if s.jrnl == nil {
		return nil
	}
	return s.jrnl.Flush(ctx)
}
