package watch

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func watchDir(t *testing.T) (string, <-chan struct{}) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cardswitch.yaml")
	require.NoError(t, os.WriteFile(path, []byte("a"), 0o600))
	ch := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, File(ctx, path, slog.New(slog.NewTextHandler(io.Discard, nil)), func() { ch <- struct{}{} }))
	return path, ch
}

func expectOne(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no change reported")
	}
}

func TestWriteBurstIsOneChange(t *testing.T) {
	path, ch := watchDir(t)
	for i := 0; i < 5; i++ {
		require.NoError(t, os.WriteFile(path, []byte{byte('b' + i)}, 0o600))
	}
	expectOne(t, ch)
	// A second notification would come within Quiet of the first.
	select {
	case <-ch:
		t.Fatal("a burst of writes reported twice")
	case <-time.After(3 * Quiet):
	}
}

func TestReplaceByRename(t *testing.T) {
	path, ch := watchDir(t)
	tmp := filepath.Join(filepath.Dir(path), ".cardswitch.yaml.tmp")
	require.NoError(t, os.WriteFile(tmp, []byte("new"), 0o600))
	require.NoError(t, os.Rename(tmp, path))
	expectOne(t, ch)
	// The watch survives the replacement.
	require.NoError(t, os.WriteFile(path, []byte("again"), 0o600))
	expectOne(t, ch)
}

func TestOtherFilesIgnored(t *testing.T) {
	path, ch := watchDir(t)
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(path), "other"), []byte("x"), 0o600))
	select {
	case <-ch:
		t.Fatal("a change to another file in the directory was reported")
	case <-time.After(3 * Quiet):
	}
	require.NoError(t, os.WriteFile(path, []byte("mine"), 0o600))
	expectOne(t, ch)
}

// A Kubernetes ConfigMap mount: the config is a symlink through "..data",
// a symlink to a timestamped directory that is swapped on update.
func TestConfigMapStyleSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	v1, v2 := filepath.Join(dir, "..v1"), filepath.Join(dir, "..v2")
	require.NoError(t, os.Mkdir(v1, 0o700))
	require.NoError(t, os.Mkdir(v2, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(v1, "cardswitch.yaml"), []byte("one"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(v2, "cardswitch.yaml"), []byte("two"), 0o600))
	require.NoError(t, os.Symlink("..v1", filepath.Join(dir, "..data")))
	path := filepath.Join(dir, "cardswitch.yaml")
	require.NoError(t, os.Symlink(filepath.Join("..data", "cardswitch.yaml"), path))

	ch := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, File(ctx, path, slog.New(slog.NewTextHandler(io.Discard, nil)), func() { ch <- struct{}{} }))

	tmp := filepath.Join(dir, "..data_tmp")
	require.NoError(t, os.Symlink("..v2", tmp))
	require.NoError(t, os.Rename(tmp, filepath.Join(dir, "..data"))) // the atomic swap kubelet does
	expectOne(t, ch)
}

// Editing the target of a symlink that points into another directory.
func TestSymlinkTargetInOtherDirectory(t *testing.T) {
	real := filepath.Join(t.TempDir(), "real.yaml")
	require.NoError(t, os.WriteFile(real, []byte("a"), 0o600))
	path := filepath.Join(t.TempDir(), "cardswitch.yaml")
	require.NoError(t, os.Symlink(real, path))
	ch := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, File(ctx, path, slog.New(slog.NewTextHandler(io.Discard, nil)), func() { ch <- struct{}{} }))
	require.NoError(t, os.WriteFile(real, []byte("b"), 0o600))
	expectOne(t, ch)
}
