// Package journal is the switch's durable transaction journal: one entry per
// request with its final answer, the store-and-forward queue of 0420
// reversal advices, and the keys duplicate detection reloads at start.
//
// Entries take two steps. An entry is staged (Stage, Append: its record
// copied into the next write, its id given) and whoever needs it durable
// writes everything staged in one write(2) to a log segment (Commit:
// group commit; applog.go, record.go, writer.go): the switch's acquirer
// connections commit their answers' entries just before the answers go
// out, and a committer goroutine writes for Append's waiters and whatever
// nobody committed. The log is the truth; the index follows: a second
// goroutine, the indexer, stores the same records in a SQLite file
// (pure-Go driver modernc.org/sqlite, WAL mode), up to a few thousand per
// row and transaction, compressed (pack.go), with the row's id and time
// ranges and a Bloom filter of its RRNs and STANs (indexer.go, batch.go);
// SQLite is what duplicate reloads and pruning read. The writer never
// waits for the indexer (follow.go): it hands each write over through a
// bounded queue and, when the queue is full, leaves the records in the
// log for the indexer to read back, paced to a share of a core while the
// index is within Options.IndexLagMax; IndexLag and a rate-limited
// warning say how far behind it is. Segments are removed once indexed
// (and, with Options.InFlightHold, that long after), so a lagging index
// costs disk, not memory and not answers. The log also
// carries in-flight records (StageSent, inflight.go): a request about to
// go to an issuer, closed by its entry; they are never indexed, and Open
// hands the unclosed ones to Options.Reverse. Open indexes whatever a
// crash left in the log before anything else, so after Open SQLite holds
// every entry ever acknowledged (unless the log file itself was damaged:
// Open then says so). Queries (List, Get, Stats, RecentKeys) read the
// index and, beside it, the log's entries it does not hold yet, from the
// segment files without the log's lock (tail.go); a read-only opener (the
// txn commands) thus sees an entry as soon as its answer was given, and
// IndexBehind says how far the index lags.
//
// The journal is append-only: a late issuer answer or a reversal is an
// entry of its own, never an edit of an earlier one.
//
// Durability: with Sync "normal" an entry is durable once its log write
// returned: it survives a crash of the process (kill -9); on power loss the
// last writes may be lost. Sync "full" adds an fsync per log write (and
// synchronous=FULL for SQLite), and survives power loss.
//
// Reversals are written to SQLite directly (they are few, and each must be
// durable before the 91 it follows), never through the log; they share the
// write connection with the indexer. Their frames are sealed with
// AES-256-GCM under Options.Keys (seal.go), and a reversal's row is deleted
// when it is acknowledged. The journal's files are created 0600 in a 0700
// folder (stored.go).
//
// Encoding: records hold times as unix nanoseconds (UTC), latencies as
// microseconds, strings as they were on the wire (record.go); only this
// package (and so cardswitch txn) reads them. Entry PANs must
// already be masked; Append refuses anything with more than 10 digits.
package journal
