package journal

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers driver "sqlite"
)

// Journal is an open journal file. From Open it writes and reads; from
// OpenReadOnly it only reads. All methods are safe for concurrent use.
type Journal struct {
	opt  Options
	path string
	wdb  *sql.DB       // nil when read-only; one connection, so writes queue in Go, not in SQLite's busy loop
	rdb  *sql.DB       // queries; WAL readers never block the writer
	cp   *checkpointer // nil when read-only
	seal *sealer       // stored messages' keys (seal.go)

	st  stage      // entries waiting for their log write (writer.go)
	log *appendLog // the writing leader only (writer.go, indexer.go)

	// Indexer goroutine only (and Open, before it starts).
	ins     writerStmts
	commits int64 // transactions committed
	retryAt int64 // commits before the indexer tries its own checkpoint again

	free     *freeList       // indexer → stage: buffers to fill
	toIndex  chan *logBatch  // writing leader → indexer (follow.go)
	fol      follow          // writing leader ↔ indexer: the log read back (follow.go)
	back     readBack        // indexer: the log to read back (follow.go)
	catchBuf []byte          // indexer: the log read back
	rb       readRows        // indexer: the entries read back
	oldest   atomic.Int64    // the time (unix ns) of the oldest entry not yet indexed, 0 if unknown (IndexLag)
	held     []heldSeg       // indexed segments kept for their in-flight records (indexer; closeLog after it ends)
	run      uint64          // pairs this run's in-flight records with their closes (inflight.go)
	sentSeq  atomic.Uint32   // the last in-flight record's seq
	sentSeal *sentSealer     // seals the in-flight records' PANs
	keep     map[string]bool // segments holding records the indexer gave up on (indexer; closeLog after it ends)
	lag      atomic.Int64
	indexed  chan struct{} // closed when the indexer has exited

	kick  chan struct{} // Append → committer: a waiter waits
	sweep *time.Timer   // Stage → committer: something staged may have no committer
	quit  chan struct{} // closeLog → committer
	swept chan struct{} // closed when the committer has exited

	watched chan struct{} // closed when the lag watcher has exited

	closeOnce sync.Once
}

// readConns bounds the query pool; the CLI and the switch's few reads need little.
const readConns = 4

// Open opens or creates the journal at path, migrates its schema and starts
// the committer and the indexer.
func Open(path string, o Options) (*Journal, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	seal, err := newSealer(o.Keys)
	if err != nil {
		return nil, err
	}
	if err := privateFiles(path, o.Log); err != nil {
		return nil, err
	}
	wdb, err := sql.Open("sqlite", writeDSN(path, o.Sync))
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	j := &Journal{opt: o, wdb: wdb, path: path, seal: seal}
	if err := j.initWriter(path); err != nil {
		j.closeDBs()
		return nil, err
	}
	nextID, err := j.recoverLog(path)
	if err != nil {
		j.closeDBs()
		return nil, err
	}
	j.startPipeline(nextID)
	return j, nil
}

// recoverLog takes the log, indexes what a previous run left in it and
// opens a fresh segment.
func (j *Journal) recoverLog(path string) (int64, error) {
	l, err := openLog(path, j.opt.Sync == "full", j.opt.segMax, j.opt.segAge)
	if err != nil {
		return 0, err
	}
	j.log = l
	nextID, err := j.replayLog()
	if err == nil {
		err = l.startSegment(nextID)
	}
	if err != nil {
		j.closeWriter()
		l.close(false)
		return 0, err
	}
	return nextID, nil
}

func (j *Journal) initWriter(path string) error {
	ctx := context.Background()
	var mode string
	if err := j.wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("journal: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal: open %s: journal_mode is %q, want wal", path, mode)
	}
	if err := j.migrateErasing(ctx); err != nil {
		return err
	}
	if err := j.moveOldEntries(ctx); err != nil {
		return err
	}
	if err := j.sealStored(ctx); err != nil {
		return err
	}
	var err error
	if j.rdb, err = sql.Open("sqlite", readDSN(path)); err != nil {
		return fmt.Errorf("journal: open %s: %w", path, err)
	}
	j.rdb.SetMaxOpenConns(readConns)
	if j.cp, err = startCheckpointer(path, j.opt.Sync); err != nil {
		return err
	}
	return nil
}

// migrateErasing migrates the schema with secure_delete ON: schema 6
// drops the old reversals table, whose frames were in clear, and its
// pages are zeroed, not only freed. The entries' move (moveOldEntries)
// runs after, back at FAST: zeroing its freed pages would double the
// writes of a long move, for no card data.
func (j *Journal) migrateErasing(ctx context.Context) error {
	if _, err := j.wdb.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
		return fmt.Errorf("journal: migrate: %w", err)
	}
	if err := migrate(ctx, j.wdb); err != nil {
		return err
	}
	if _, err := j.wdb.ExecContext(ctx, "PRAGMA secure_delete = FAST"); err != nil {
		return fmt.Errorf("journal: migrate: %w", err)
	}
	return nil
}

// OpenReadOnly opens an existing journal for queries only; it works while a
// switch writes to the same file. keys open the stored messages' frames
// (Options.Keys); without them no reversal is listed as pending.
func OpenReadOnly(path string, keys ...[32]byte) (*Journal, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	seal, err := newSealer(keys)
	if err != nil {
		return nil, err
	}
	rdb, err := sql.Open("sqlite", readDSN(path))
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(readConns)
	if err := checkVersion(context.Background(), rdb); err != nil {
		rdb.Close()
		return nil, err
	}
	return &Journal{rdb: rdb, path: path, seal: seal}, nil
}

// Close writes and indexes everything appended so far, stops the
// committer and the indexer and closes the files. Appends after Close fail
// with ErrClosed. Close is idempotent: later calls return nil at once.
func (j *Journal) Close() error {
	var err error
	j.closeOnce.Do(func() {
		if !j.readOnly() {
			j.closeLog()
		}
		err = j.closeDBs()
	})
	return err
}

func (j *Journal) closeDBs() error {
	var first error
	keep := func(err error) {
		if first == nil && err != nil {
			first = fmt.Errorf("journal: close: %w", err)
		}
	}
	if j.cp != nil {
		keep(j.cp.close())
	}
	if j.rdb != nil {
		keep(j.rdb.Close())
	}
	if j.wdb != nil {
		keep(j.wdb.Close())
	}
	return first
}

func (j *Journal) readOnly() bool { return j.wdb == nil }

// writeDSN sets the pragmas on every connection; _txlock=immediate takes the
// write lock at BEGIN so a transaction never fails upgrading it;
// wal_autocheckpoint(0) keeps checkpoints out of commits (checkpoint.go);
// secure_delete(FAST) zeroes a deleted row's bytes inside its page (an
// acknowledged reversal's sealed frame) at no extra I/O: the page is
// written anyway. Freed overflow pages are not zeroed (that would be
// extra writes on every prune of batch rows): a frame larger than a page
// (~4 KB, rare) leaves its sealed tail there, which is ciphertext.
func writeDSN(path, syncMode string) string {
	return "file:" + escapePath(path) + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(" + strings.ToUpper(syncMode) + ")&_pragma=foreign_keys(1)" +
		"&_pragma=wal_autocheckpoint(0)&_pragma=secure_delete(FAST)&_txlock=immediate"
}

// readDSN uses a URI so mode=ro applies: queries can never write or create.
func readDSN(path string) string {
	return "file:" + escapePath(path) + "?mode=ro&_pragma=busy_timeout(5000)"
}

// escapePath keeps URI metacharacters in file names literal (both DSNs are
// file: URIs).
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}
