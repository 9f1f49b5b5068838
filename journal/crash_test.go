package journal

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crashEnv names the journal file when the test binary runs as the helper;
// crashPauseEnv, set, has the helper's indexer paused throughout.
const (
	crashEnv      = "CARDSWITCH_JOURNAL_CRASH_HELPER"
	crashPauseEnv = "CARDSWITCH_JOURNAL_CRASH_PAUSE"
)

// TestCrashKeepsNotifiedEntries kills a real writer process with SIGKILL
// and checks that everything it reported as durable is there after restart.
func TestCrashKeepsNotifiedEntries(t *testing.T) { testCrash(t, false, 5000) }

// TestCrashWithIndexPausedKeepsEntries is the same crash with the
// writer's indexer paused from the start: it never indexed anything, the
// log held every entry (many more batches than the indexer's queue), and
// the next Open indexes them all, the duplicate window's keys included.
func TestCrashWithIndexPausedKeepsEntries(t *testing.T) { testCrash(t, true, 20000) }

func testCrash(t *testing.T, paused bool, wantEntries int) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	if paused {
		cmd.Env = append(cmd.Env, crashPauseEnv+"=1")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})

	var lines []string
	sc := bufio.NewScanner(stdout)
	entries, revs := 0, 0
	for (entries < wantEntries || revs < 50) && sc.Scan() {
		lines = append(lines, sc.Text())
		switch sc.Text()[0] {
		case 'E':
			entries++
		case 'R':
			revs++
		}
	}
	require.NoError(t, cmd.Process.Kill(), "SIGKILL mid-load")
	killed = true
	for sc.Scan() { // written before the kill: just as binding
		lines = append(lines, sc.Text())
	}
	cmd.Wait()
	require.GreaterOrEqual(t, entries, wantEntries, "helper stderr:\n%s", stderr.String())

	t.Logf("%d entries, %d reversals notified before the kill", entries, revs)
	j, err := Open(path, Options{Keys: testKeys}) // a restarted switch
	require.NoError(t, err)
	defer j.Close()
	checkCrashLines(t, j, lines)
	if paused {
		checkCrashKeys(t, j, lines)
	}
}

// checkCrashKeys checks that the duplicate window's reload (RecentKeys)
// holds every entry notified before the kill.
func checkCrashKeys(t *testing.T, j *Journal, lines []string) {
	keys, err := j.RecentKeys(time.Time{})
	require.NoError(t, err)
	rrns := make(map[string]bool, len(keys))
	for _, k := range keys {
		rrns[k.RRN] = true
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if f[0] != "E" {
			continue
		}
		seq, _ := strconv.Atoi(f[2])
		require.True(t, rrns[crashEntry(seq).RRN], "entry %s reloaded into the duplicate window", f[1])
	}
}

func checkCrashLines(t *testing.T, j *Journal, lines []string) {
	ctx := context.Background()
	owed, acked, acking := map[int64]string{}, map[int64]bool{}, map[int64]bool{}
	all, err := j.List(ctx, Filter{Limit: 1 << 30}) // one query: a Get per line is slow under -race
	require.NoError(t, err)
	stored := make(map[int64]Entry, len(all))
	for _, e := range all {
		stored[e.ID] = e
	}
	for _, l := range lines {
		f := strings.Fields(l)
		require.Len(t, f, 3, "line %q", l)
		id, err := strconv.ParseInt(f[1], 10, 64)
		require.NoError(t, err)
		switch f[0] {
		case "E":
			e, ok := stored[id]
			require.True(t, ok, "entry %d was notified before the kill", id)
			seq, _ := strconv.Atoi(f[2])
			want := crashEntry(seq)
			want.ID = id
			require.Equal(t, *want, e)
		case "R":
			owed[id] = f[2]
		case "a":
			acking[id] = true
		case "A":
			acked[id] = true
		}
	}
	pending, err := j.PendingReversals()
	require.NoError(t, err)
	got := map[int64]string{}
	for _, r := range pending {
		got[r.ID] = r.STAN
	}
	for id, stan := range owed {
		if acked[id] {
			assert.NotContains(t, got, id, "reversal %d was acked", id)
			continue
		}
		if acking[id] {
			continue // killed during its ack: either outcome is right
		}
		assert.Equal(t, stan, got[id], "reversal %d still owed", id)
	}
}

func crashEntry(seq int) *Entry {
	e := sampleEntry(seq)
	e.ResponseCode = []string{"00", "05", "51", "91"}[seq%4]
	e.Conn = uint64(seq) // lets the waiter print seq without a side table
	return e
}

// TestHelperProcess is the child of TestCrashKeepsNotifiedEntries: it
// appends and stores reversals until killed, printing each one only after
// the journal reported it durable.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process for TestCrashKeepsNotifiedEntries")
	}
	o := Options{BatchMax: 256, Keys: testKeys}
	paused := os.Getenv(crashPauseEnv) != ""
	if paused {
		o.IndexGate = make(chan struct{}) // never released
	}
	j, err := Open(path, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var seq atomic.Int64
	print := waiterFunc(func(e *Entry, err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Fprintf(os.Stdout, "E %d %d\n", e.ID, e.Conn)
	})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				n := int(seq.Add(1))
				j.Append(crashEntry(n), print)
				if paused { // small writes: many more batches than the indexer's queue holds
					_ = j.FlushLog(context.Background())
				}
			}
		})
	}
	wg.Go(func() { storeReversals(j) })
	wg.Wait()
}

func storeReversals(j *Journal) {
	ctx := context.Background()
	for i := 1; ; i++ {
		r := &Reversal{Issuer: "bank-a", STAN: fmt.Sprintf("%06d", i), Frame: []byte("0420"), Created: time.Now()}
		if _, err := j.AddReversal(ctx, r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		fmt.Fprintf(os.Stdout, "R %d %s\n", r.ID, r.STAN)
		if i%3 == 0 {
			// "a" first: a kill between the ack's commit and the "A" line
			// leaves the reversal acked without the parent knowing.
			fmt.Fprintf(os.Stdout, "a %d 00\n", r.ID)
			if err := j.ReversalAcked(r.ID, "00"); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(5)
			}
			fmt.Fprintf(os.Stdout, "A %d 00\n", r.ID)
		}
	}
}
