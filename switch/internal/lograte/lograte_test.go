package lograte

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// capture keeps every record it is handed, with its attributes.
type capture struct {
	mu    sync.Mutex
	lines []line
	attrs []slog.Attr
}

type line struct {
	level slog.Level
	msg   string
	attrs map[string]slog.Value
}

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }

func (c *capture) Handle(_ context.Context, r slog.Record) error {
	l := line{level: r.Level, msg: r.Message, attrs: map[string]slog.Value{}}
	for _, a := range c.attrs {
		l.attrs[a.Key] = a.Value
	}
	r.Attrs(func(a slog.Attr) bool { l.attrs[a.Key] = a.Value; return true })
	c.mu.Lock()
	c.lines = append(c.lines, l)
	c.mu.Unlock()
	return nil
}

func (c *capture) WithAttrs(as []slog.Attr) slog.Handler {
	return &sub{c, append(append([]slog.Attr(nil), c.attrs...), as...)}
}
func (c *capture) WithGroup(string) slog.Handler { return c }

// sub is capture with attributes, writing into the same list.
type sub struct {
	*capture
	own []slog.Attr
}

func (s *sub) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(s.own...)
	return s.capture.Handle(ctx, r)
}

func (c *capture) count(msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.lines {
		if l.msg == msg {
			n++
		}
	}
	return n
}

// summaries returns the suppressed counts of the summaries about msg.
func (c *capture) summaries(msg string) []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int64
	for _, l := range c.lines {
		if l.msg == SummaryMessage && l.attrs["message"].String() == msg {
			out = append(out, l.attrs["suppressed"].Int64())
		}
	}
	return out
}

// fakeTimer replaces time.AfterFunc: the test fires it.
type fakeTimer struct {
	mu    sync.Mutex
	armed []func()
	waits []time.Duration
}

func (f *fakeTimer) after(d time.Duration, fn func()) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed = append(f.armed, fn)
	f.waits = append(f.waits, d)
	return func() {}
}

func (f *fakeTimer) fire() {
	f.mu.Lock()
	fns := f.armed
	f.armed = nil
	f.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

const (
	burst    = 10
	interval = time.Second
)

// window0 starts a window: windows are aligned to the Unix epoch.
var window0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func newTest(t *testing.T, maxKeys int) (*Handler, *capture, *fakeTimer) {
	t.Helper()
	c := &capture{}
	h := New(c, Limits{Burst: burst, Interval: interval, MaxKeys: maxKeys})
	ft := &fakeTimer{}
	h.lim.afterFunc = ft.after
	return h, c, ft
}

func logAt(t *testing.T, h slog.Handler, at time.Time, level slog.Level, msg string, n int) {
	t.Helper()
	for i := range n {
		r := slog.NewRecord(at, level, msg, 0)
		r.AddAttrs(slog.Int("i", i))
		require.NoError(t, h.Handle(context.Background(), r))
	}
}

// A flood of one message yields its first burst lines and, at the end of
// the window, one summary with the rest counted; the next window starts a
// new budget.
func TestFloodYieldsBurstThenOneSummaryPerWindow(t *testing.T) {
	h, c, ft := newTest(t, 64)
	const msg = "acquirer sent a non-request message; ignored"
	logAt(t, h, window0.Add(100*time.Millisecond), slog.LevelWarn, msg, 10_000)
	assert.Equal(t, burst, c.count(msg))
	assert.Empty(t, c.summaries(msg), "the summary waits for the window's end")
	require.Len(t, ft.waits, 1, "one timer for the window")
	assert.Equal(t, 900*time.Millisecond, ft.waits[0], "it fires at the window's end")
	ft.fire()
	assert.Equal(t, []int64{10_000 - burst}, c.summaries(msg))

	logAt(t, h, window0.Add(interval+time.Millisecond), slog.LevelWarn, msg, 10_000)
	assert.Equal(t, 2*burst, c.count(msg))
	// Not fired: the window's first line of the next window brings it.
	logAt(t, h, window0.Add(2*interval), slog.LevelWarn, msg, 1)
	assert.Equal(t, []int64{10_000 - burst, 10_000 - burst}, c.summaries(msg))
	assert.Equal(t, 2*burst+1, c.count(msg))
	ft.fire()
	assert.Len(t, c.summaries(msg), 2, "a summary is written once")
	assert.Len(t, c.lines, 2*burst+1+2)
}

// Budgets are per (level, message), shared by handlers derived with
// attributes (a per-connection logger), and summaries carry none of a
// line's attributes.
func TestBudgetsByLevelAndMessageSharedByDerivedHandlers(t *testing.T) {
	h, c, ft := newTest(t, 64)
	at := window0
	logAt(t, h.WithAttrs([]slog.Attr{slog.Int("conn", 1)}), at, slog.LevelWarn, "a", 7)
	logAt(t, h.WithAttrs([]slog.Attr{slog.Int("conn", 2)}), at, slog.LevelWarn, "a", 7)
	logAt(t, h, at, slog.LevelInfo, "a", 3)
	logAt(t, h, at, slog.LevelWarn, "b", 3)
	assert.Equal(t, burst+3, c.count("a"))
	assert.Equal(t, 3, c.count("b"))
	ft.fire()
	require.Equal(t, []int64{4}, c.summaries("a"))
	for _, l := range c.lines {
		if l.msg == SummaryMessage {
			assert.NotContains(t, l.attrs, "conn")
			assert.Equal(t, slog.LevelWarn, l.level)
			assert.Equal(t, interval, l.attrs["interval"].Duration())
		}
	}
}

// Messages beyond MaxKeys share one budget: the key set stays bounded even
// if a message were built from input.
func TestKeysBeyondCapShareOneBudget(t *testing.T) {
	h, c, ft := newTest(t, 2)
	for i := range 100 {
		logAt(t, h, window0, slog.LevelWarn, string(rune('A'+i%26))+string(rune('a'+i/26)), 1)
	}
	assert.Len(t, c.lines, 2+burst)
	assert.LessOrEqual(t, h.lim.keys.Load(), int64(2))
	ft.fire()
	assert.Equal(t, []int64{100 - 2 - burst}, c.summaries(overflowMessage))
}

// Close writes what is owed, and the timer then writes nothing.
func TestCloseWritesOwedSummaries(t *testing.T) {
	h, c, ft := newTest(t, 64)
	logAt(t, h, window0, slog.LevelError, "x", 25)
	h.Close()
	assert.Equal(t, []int64{15}, c.summaries("x"))
	ft.fire()
	assert.Len(t, c.lines, burst+1)
}

// A line stamped in an earlier window than its message's current one (a
// goroutine that read the clock before another) does not rewind it.
func TestLateStampCountsInCurrentWindow(t *testing.T) {
	h, c, _ := newTest(t, 64)
	logAt(t, h, window0.Add(interval), slog.LevelWarn, "x", burst)
	logAt(t, h, window0, slog.LevelWarn, "x", 5)
	assert.Equal(t, burst, c.count("x"))
	assert.Empty(t, c.summaries("x"))
}

// Many goroutines: no more than the burst passes per window, and every
// line is either written or counted in a summary.
func TestConcurrentFloodCountsEveryLine(t *testing.T) {
	h, c, ft := newTest(t, 64)
	const goroutines, each = 8, 2000
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				_ = h.Handle(context.Background(), slog.NewRecord(window0, slog.LevelWarn, "x", 0))
			}
		}()
	}
	wg.Wait()
	ft.fire()
	assert.Equal(t, burst, c.count("x"))
	assert.Equal(t, []int64{goroutines*each - burst}, c.summaries("x"))
}

// Lines below Below pass unlimited.
func TestLinesBelowTheLevelPass(t *testing.T) {
	c := &capture{}
	h := New(c, Limits{Burst: 1, Interval: interval, MaxKeys: 4, Below: slog.LevelInfo})
	logAt(t, h, window0, slog.LevelDebug, "x", 100)
	logAt(t, h, window0, slog.LevelInfo, "x", 100)
	assert.Equal(t, 101, c.count("x"))
}

// Burst 0 turns limiting off.
func TestZeroBurstPassesEverything(t *testing.T) {
	c := &capture{}
	h := New(c, Limits{Burst: 0, Interval: interval, MaxKeys: 4})
	logAt(t, h, window0, slog.LevelWarn, "x", 100)
	assert.Equal(t, 100, c.count("x"))
}

// A suppressed line costs no allocation.
func TestSuppressedLineDoesNotAllocate(t *testing.T) {
	h, _, _ := newTest(t, 64)
	r := slog.NewRecord(window0, slog.LevelWarn, "x", 0)
	r.AddAttrs(slog.Int("conn", 1), slog.String("mti", "0110"))
	for range burst + 1 {
		_ = h.Handle(context.Background(), r)
	}
	allocs := testing.AllocsPerRun(1000, func() { _ = h.Handle(context.Background(), r) })
	assert.Zero(t, allocs)
}

// BenchmarkSuppressed: the cost of a line over its budget, from many
// goroutines (a flood over many connections).
func BenchmarkSuppressed(b *testing.B) {
	h := New(&capture{}, Limits{Burst: burst, Interval: time.Hour, MaxKeys: 64})
	h.lim.afterFunc = (&fakeTimer{}).after
	r := slog.NewRecord(window0, slog.LevelWarn, "acquirer sent a non-request message; ignored", 0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = h.Handle(context.Background(), r)
		}
	})
}
