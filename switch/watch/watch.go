// Package watch tells when a config file's content may have changed.
//
// It watches the file's directory, not the file: editors and deployment
// tools often replace a file by writing a temporary one and renaming it
// over the original, which ends a watch on the file itself. Bursts of
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
	go run(ctx, w, abs, log, onChange)
	return nil
}

func run(ctx context.Context, w *fsnotify.Watcher, abs string, log *slog.Logger, onChange func()) {
	defer w.Close()
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
			if filepath.Clean(ev.Name) != abs {
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
