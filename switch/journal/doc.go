// Package journal is the switch's durable transaction journal: one entry per
// request with its final answer, the store-and-forward queue of 0420
// reversal advices, and the keys duplicate detection reloads at start.
//
// Storage is a single SQLite file (pure-Go driver modernc.org/sqlite) in WAL
// mode. Entries are written by one goroutine that drains a bounded queue and
// inserts up to Options.BatchMax entries per transaction (group commit), then
// tells each entry's Waiter. The switch answers an acquirer only after its
// Waiter fired, so every answer a client saw is on disk.
//
// Durability: with Sync "normal" (synchronous=NORMAL) a committed
// transaction survives a crash of the process (kill -9); on power loss the
// last commits may be lost. Sync "full" also survives power loss, at the cost
// of an fsync per commit.
//
// Encoding: times are stored as INTEGER unix nanoseconds (UTC), latencies as
// INTEGER microseconds, strings as they were on the wire. Entry PANs must
// already be masked; Append refuses anything with more than 10 digits.
package journal
