package journal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// sealStored brings the reversals table to schema 6's promise: no frame in
// clear. Frames still owed that an older version stored in clear are
// sealed in place. It runs at every Open and finds nothing to do once
// done; without keys it leaves clear frames (and says so) for an Open
// with keys.
func (j *Journal) sealStored(ctx context.Context) error {
	var clearRows int
	if err := j.wdb.QueryRowContext(ctx, `SELECT count(*) FROM reversals WHERE key_id = 0`).Scan(&clearRows); err != nil {
		return fmt.Errorf("journal: seal stored messages: %w", err)
	}
	if clearRows == 0 {
		return nil
	}
	if len(j.seal.aeads) == 0 {
		j.opt.Log.Warn("journal: stored messages in clear and no key to encrypt them", "rows", clearRows)
		return nil
	}
	// The clear frames are overwritten, not only unlinked: secure_delete
	// ON zeroes freed overflow pages too, for this one-time step.
	if _, err := j.wdb.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
		return fmt.Errorf("journal: seal stored messages: %w", err)
	}
	sealed, err := j.sealClearRows(ctx)
	if err == nil {
		_, err = j.wdb.ExecContext(ctx, "PRAGMA secure_delete = FAST")
	}
	if err == nil {
		// The WAL held the clear frames' pages too: truncate it.
		_, err = j.wdb.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	if err != nil {
		return fmt.Errorf("journal: seal stored messages: %w", err)
	}
	j.opt.Log.Info("journal: stored messages an older version kept in clear are now encrypted", "sealed", sealed)
	return nil
}

// sealClearRows seals the clear frames in one transaction and returns how
// many it sealed.
func (j *Journal) sealClearRows(ctx context.Context) (int, error) {
	tx, err := j.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	type row struct {
		id, created int64
		issuer      string
		frame       []byte
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, created, issuer, frame FROM reversals WHERE key_id = 0`)
	if err != nil {
		return 0, err
	}
	var todo []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.created, &r.issuer, &r.frame); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, r := range todo {
		kid, sealed, err := j.seal.seal(r.frame, r.id, r.created, r.issuer)
		clear(r.frame)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reversals SET frame = ?, key_id = ? WHERE id = ?`, sealed, kid, r.id); err != nil {
			return 0, err
		}
	}
	return len(todo), tx.Commit()
}

// Journal files are the switch user's alone: the folder is created 0700,
// the database (and with it SQLite's -wal and -shm, which take its mode)
// 0600, the log directory and its segments 0700/0600 (applog.go). A file
// a previous version or an operator left readable by others is tightened
// at Open, with a warning; an existing folder is left as it is (it may be
// shared, e.g. the working directory): the files in it are private.
const (
	fileMode = 0o600
	dirMode  = 0o700
)

// privateFiles creates the journal's folder and file with private modes,
// or tightens them.
func privateFiles(path string, log *slog.Logger) error {
	if err := os.MkdirAll(filepath.Dir(path), dirMode); err != nil {
		return fmt.Errorf("journal: folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode) // #nosec G304 -- the configured journal
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("journal: create %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := tighten(p, fileMode, log); err != nil {
			return err
		}
	}
	return tightenLog(path+logSuffix, log)
}

// tightenLog tightens the log directory and its files, if it exists.
func tightenLog(dir string, log *slog.Logger) error {
	if err := tighten(dir, dirMode, log); err != nil {
		return err
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("journal: log directory: %w", err)
	}
	for _, de := range des {
		if de.Type().IsRegular() {
			if err := tighten(filepath.Join(dir, de.Name()), fileMode, log); err != nil {
				return err
			}
		}
	}
	return nil
}

// tighten removes the permission bits of p beyond mode (a missing p is
// fine), with a warning naming the file.
func tighten(p string, mode fs.FileMode, log *slog.Logger) error {
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if st.Mode().Perm()&^mode == 0 {
		return nil
	}
	if err := os.Chmod(p, st.Mode().Perm()&mode); err != nil {
		return fmt.Errorf("journal: %s is readable by others and cannot be tightened: %w", p, err)
	}
	log.Warn("journal: file was accessible to other users; permissions tightened", "path", p,
		"was", fmt.Sprintf("%04o", st.Mode().Perm()), "now", fmt.Sprintf("%04o", st.Mode().Perm()&mode))
	return nil
}
