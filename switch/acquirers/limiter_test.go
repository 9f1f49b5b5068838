package acquirers_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/switch/acquirers"
)

// slowRate refills one token per ~3 hours: within a test, only the burst
// is available, so outcomes do not depend on timing.
const slowRate = 1e-4

func TestConnectCap(t *testing.T) {
	l := acquirers.NewLimiter()
	a := &acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", MaxConnections: 2}}

	r1, ok := l.Connect(a)
	require.True(t, ok)
	_, ok = l.Connect(a)
	require.True(t, ok)
	_, ok = l.Connect(a)
	assert.False(t, ok, "third connection over the cap")
	assert.Equal(t, acquirers.Usage{Connections: 2}, l.Usage("a"))

	r1()
	r1() // a second release is ignored
	assert.Equal(t, acquirers.Usage{Connections: 1}, l.Usage("a"))
	_, ok = l.Connect(a)
	assert.True(t, ok)
}

func TestUnlimited(t *testing.T) {
	l := acquirers.NewLimiter()
	a := &acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a"}}
	for range 1000 {
		_, ok := l.Connect(a)
		require.True(t, ok)
		ok, code := l.Begin(a)
		require.True(t, ok)
		require.Empty(t, code)
	}
	assert.Equal(t, acquirers.Usage{Connections: 1000, InFlight: 1000}, l.Usage("a"))
}

func TestNilAcquirerIsNotLimited(t *testing.T) {
	l := acquirers.NewLimiter()
	release, ok := l.Connect(nil)
	require.True(t, ok)
	release()
	ok, code := l.Begin(nil)
	assert.True(t, ok)
	assert.Empty(t, code)
	l.End(nil)
}

func TestBeginRefusals(t *testing.T) {
	tests := []struct {
		name     string
		acq      acquirers.Acquirer
		requests int      // Begin calls without End
		want     []string // code per call, "" for admitted
	}{
		{"in-flight cap", acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", MaxInFlight: 2}}, 3, []string{"", "", "91"}},
		{"rate with burst", acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", Rate: slowRate, Burst: 3}}, 4, []string{"", "", "", "65"}},
		{"rate with default burst of 1", acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", Rate: slowRate}}, 2, []string{"", "65"}},
		{"in-flight checked before rate", acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", MaxInFlight: 1, Rate: slowRate, Burst: 5}}, 3, []string{"", "91", "91"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := acquirers.NewLimiter()
			var got []string
			for range tt.requests {
				_, code := l.Begin(&tt.acq)
				got = append(got, code)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestEndFreesInFlight(t *testing.T) {
	l := acquirers.NewLimiter()
	a := &acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", MaxInFlight: 1}}
	ok, _ := l.Begin(a)
	require.True(t, ok)
	ok, code := l.Begin(a)
	require.False(t, ok)
	require.Equal(t, acquirers.CodeInFlightExceeded, code)
	l.End(a)
	ok, _ = l.Begin(a)
	assert.True(t, ok)
}

// A request refused for rate must not hold an in-flight slot.
func TestRateRefusalReleasesInFlight(t *testing.T) {
	l := acquirers.NewLimiter()
	a := &acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", MaxInFlight: 1, Rate: slowRate, Burst: 1}}
	ok, _ := l.Begin(a)
	require.True(t, ok)
	l.End(a)
	ok, code := l.Begin(a)
	require.False(t, ok)
	assert.Equal(t, acquirers.CodeRateExceeded, code)
	assert.Equal(t, acquirers.Usage{}, l.Usage("a"))
}

// reg builds a one-acquirer Registry, as a config (re)load would, and
// returns its acquirer.
func reg(t *testing.T, a acquirers.Acquirer) *acquirers.Acquirer {
	t.Helper()
	got, ok := acquirers.NewRegistry([]config.Acquirer{a.Acquirer}).ByName(a.Name)
	require.True(t, ok)
	return got
}

// A reload builds new Acquirer values; the counters follow the name.
func TestStateSurvivesReload(t *testing.T) {
	l := acquirers.NewLimiter()
	v1 := reg(t, acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", MaxConnections: 1, Rate: slowRate, Burst: 1}})
	_, ok := l.Connect(v1)
	require.True(t, ok)
	ok, _ = l.Begin(v1)
	require.True(t, ok)

	v2 := reg(t, acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", MaxConnections: 1, Rate: slowRate, Burst: 1}})
	_, ok = l.Connect(v2)
	assert.False(t, ok, "the connection opened under the old config still counts")
	ok, code := l.Begin(v2)
	assert.False(t, ok)
	assert.Equal(t, acquirers.CodeRateExceeded, code, "the spent token is still spent")
	l.End(v2)
	assert.Equal(t, acquirers.Usage{Connections: 1}, l.Usage("a"))
}

// The newest configuration's limits apply to every connection, including
// those still holding the acquirer from before the reload.
func TestNewestLimitsWin(t *testing.T) {
	l := acquirers.NewLimiter()
	old := reg(t, acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", Rate: slowRate, Burst: 1, MaxInFlight: 1}})
	ok, _ := l.Begin(old)
	require.True(t, ok)
	l.End(old)
	_, code := l.Begin(old)
	require.Equal(t, acquirers.CodeRateExceeded, code)

	// The reload lifts the rate limit and raises the in-flight cap.
	cur := reg(t, acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", MaxInFlight: 3}})
	var codes []string
	for _, a := range []*acquirers.Acquirer{cur, old, old, old} {
		_, code := l.Begin(a)
		codes = append(codes, code)
	}
	assert.Equal(t, []string{"", "", "", "91"}, codes, "old pointers get the new limits")
}

// A reload that adds a rate limit keeps the bucket's tokens: it does not
// hand out a fresh burst.
func TestReloadAddsRate(t *testing.T) {
	l := acquirers.NewLimiter()
	ok, _ := l.Begin(reg(t, acquirers.Acquirer{Acquirer: config.Acquirer{Name: "b"}}))
	require.True(t, ok)
	limited := reg(t, acquirers.Acquirer{Acquirer: config.Acquirer{Name: "b", Rate: slowRate, Burst: 2}})
	var codes []string
	for range 3 {
		_, code := l.Begin(limited)
		codes = append(codes, code)
	}
	// The bucket was created with burst 1 and full; raising the burst to 2
	// adds no tokens, so one request passes.
	assert.Equal(t, []string{"", "65", "65"}, codes)
}

// Hand-built acquirers (no Registry) take the limits of the first one seen.
func TestHandBuiltAcquirersKeepFirstLimits(t *testing.T) {
	l := acquirers.NewLimiter()
	ok, _ := l.Begin(&acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", MaxInFlight: 1}})
	require.True(t, ok)
	_, code := l.Begin(&acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", MaxInFlight: 5}})
	assert.Equal(t, acquirers.CodeInFlightExceeded, code)
}

func TestConcurrentLimits(t *testing.T) {
	const maxInFlight, maxConns, workers, rounds = 5, 3, 16, 300
	l := acquirers.NewLimiter()
	a := &acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", MaxInFlight: maxInFlight, MaxConnections: maxConns}}

	var inFlight, conns, peakInFlight, peakConns atomic.Int64
	peak := func(p *atomic.Int64, v int64) {
		for old := p.Load(); v > old && !p.CompareAndSwap(old, v); old = p.Load() {
		}
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if release, ok := l.Connect(a); ok {
					peak(&peakConns, conns.Add(1))
					conns.Add(-1)
					release()
				}
				if ok, _ := l.Begin(a); ok {
					peak(&peakInFlight, inFlight.Add(1))
					inFlight.Add(-1)
					l.End(a)
				}
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, peakInFlight.Load(), int64(maxInFlight))
	assert.LessOrEqual(t, peakConns.Load(), int64(maxConns))
	assert.Equal(t, acquirers.Usage{}, l.Usage("a"))
}

// Many acquirers created concurrently all get their own state.
func TestConcurrentStateCreation(t *testing.T) {
	l := acquirers.NewLimiter()
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	var wg sync.WaitGroup
	for _, n := range names {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _ := l.Begin(&acquirers.Acquirer{Acquirer: config.Acquirer{Name: n}})
				assert.True(t, ok)
			}()
		}
	}
	wg.Wait()
	for _, n := range names {
		assert.Equal(t, acquirers.Usage{InFlight: 4}, l.Usage(n), n)
	}
}

func TestBeginEndDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	l := acquirers.NewLimiter()
	a := &acquirers.Acquirer{Acquirer: config.Acquirer{Name: "a", MaxInFlight: 10, Rate: 1e9, Burst: 1000}}
	l.Begin(a)
	l.End(a)
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		l.Begin(a)
		l.End(a)
	}))
}
