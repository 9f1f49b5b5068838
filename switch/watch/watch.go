// Package watch tells when a config file's content may have changed.
//
// It watches the file's directory, not the file: editors and deployment
// tools often replace a file by writing a temporary one and renaming it
// over the original, which ends a watch on the file itself. When the path
// is a symlink (a Kubernetes ConfigMap mount: config.yaml -> ..data/...,
// where ..data is itself a symlink swapped on update), the directory of
// the file it resolves to is watched too, and a change of what the path
// resolves to counts as a change. Bursts of
// events (several writes, a rename plus a chmod) are coalesced into one
// notification after a quiet period; the receiver compares content hashes,
// so a notification without a real change costs one read.
package watch

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Quiet is how long events must stop before a change is reported.
const Quiet = 150 * time.Millisecond

// File calls onChange after the file at path is created, written,
// renamed or replaced, until ctx ends. It returns an error only when the
// watch cannot be set up.
func File(ctx context.Context, path string, log *slog.Logger, onChange func()) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		_ = w.Close()
		return err
	}
	t := &target{w: w, abs: abs, log: log}
	t.resolve()
	go run(ctx, w, t, onChange)
	return nil
}

// target is the watched path and what it currently resolves to.
type target struct {
	w        *fsnotify.Watcher
	abs      string
	resolved string
	log      *slog.Logger
}

// resolve follows symlinks and watches the resolved file's directory; it
// reports whether the resolution changed.
func (t *target) resolve() bool {
	r, err := filepath.EvalSymlinks(t.abs)
	if err != nil || r == t.resolved {
		return false
	}
	t.resolved = r
	if dir := filepath.Dir(r); dir != filepath.Dir(t.abs) {
		if err := t.w.Add(dir); err != nil {
			t.log.Warn("cannot watch the config file's target directory", "dir", dir, "err", err)
		}
	}
	return true
}

// concerns reports whether an event may have changed the file's content.
func (t *target) concerns(name string) bool {
	name = filepath.Clean(name)
	moved := t.resolve()
	return moved || name == t.abs || name == t.resolved
}

func run(ctx context.Context, w *fsnotify.Watcher, t *target, onChange func()) {
	defer w.Close()
	log := t.log
	var quiet *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if !t.concerns(ev.Name) {
				continue
			}
			if quiet == nil {
				quiet = time.NewTimer(Quiet)
			} else {
				quiet.Reset(Quiet)
			}
			fire = quiet.C
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			log.Warn("config watch error", "err", err)
		case <-fire:
			fire = nil
			onChange()
		}
	}
}
