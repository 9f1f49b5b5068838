package journal

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"
)

// WAL checkpoints are kept out of commits. SQLite's automatic checkpoint
// (every 1000 WAL pages) runs inside the commit that crosses the mark, so
// the entries of that batch waited for a copy of the whole WAL into the
// database: the p99 spikes. The write connections run with
// wal_autocheckpoint=0 instead, and:
//
//   - a checkpointer goroutine on its own connection runs PASSIVE
//     checkpoints (they never block the writer) at most every
//     checkpointEvery while entries are being committed, so the copying
//     happens beside the writer;
//   - SQLite only rewinds the WAL when a write transaction starts with every
//     frame already checkpointed, which a checkpointer racing a busy writer
//     never achieves. So once the WAL holds walRestartFrames, the writer
//     itself checkpoints the few frames left, between two transactions and
//     after the waiters of the last one were told: the next transaction
//     then rewinds the WAL. That bounds the WAL near walRestartFrames pages
//     unless a reader pins an old snapshot (as with automatic checkpoints).
const (
	checkpointEvery  = 50 * time.Millisecond
	walRestartFrames = 4096 // ~16 MiB of 4 KiB pages
	// writerRetryCommits spaces the writer's attempts while a reader keeps
	// the WAL from being checkpointed to the end.
	writerRetryCommits = 64
)

// checkpointer runs PASSIVE checkpoints from its own connection.
type checkpointer struct {
	db   *sql.DB
	kick chan struct{} // buffered 1: commits since the last run
	stop chan struct{}
	done chan struct{}
	log  atomic.Int64 // WAL frames at the latest checkpoint (any connection's)
}

func startCheckpointer(path, syncMode string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", writeDSN(path, syncMode))
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	cp := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go cp.run()
	return cp, nil
}

// committed tells the checkpointer there is something to copy; it never blocks.
func (cp *checkpointer) committed() {
	select {
	case cp.kick <- struct{}{}:
	default:
	}
}

func (cp *checkpointer) run() {
	defer close(cp.done)
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		select {
		case <-cp.kick:
		case <-cp.stop:
			return
		}
		var busy, log, done int64
		err := cp.db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done)
		if err == nil && busy == 0 {
			cp.log.Store(log)
		}
		pause.Reset(checkpointEvery) // rate limit: each run syncs the WAL and the database
		select {
		case <-pause.C:
		case <-cp.stop:
			return
		}
	}
}

// close stops the goroutine and closes its connection.
func (cp *checkpointer) close() error {
	close(cp.stop)
	<-cp.done
	return cp.db.Close()
}

// walCheck is the writer's side: called after each commit's waiters were
// told. It kicks the checkpointer and, when the WAL is long, checkpoints
// the rest itself so that the next transaction rewinds the WAL.
func (j *Journal) walCheck() {
	cp := j.cp
	cp.committed()
	j.commits++
	if cp.log.Load() < walRestartFrames || j.commits < j.retryAt {
		return
	}
	var r ckptResult
	err := j.withWriteConn(func(dc any) (err error) {
		r, err = j.ins.checkpointWAL(dc)
		return err
	})
	switch {
	case err != nil:
		j.opt.Log.Warn("journal checkpoint failed", "err", err)
		j.retryAt = j.commits + writerRetryCommits
	case r.busy: // the checkpointer is copying: try again after the next commit
	case r.done == r.log:
		cp.log.Store(0) // rewound by the next write
	default: // a reader holds an older snapshot
		cp.log.Store(r.log)
		j.retryAt = j.commits + writerRetryCommits
	}
}
