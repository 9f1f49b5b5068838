package replay

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/dialectio"
	"github.com/cardswitch/cardswitch/internal/porttest"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/replay/trace"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtures loads every trace in testdata/traces (written by the trace
// package's owner); the test skips while there are none.
func fixtures(t *testing.T) map[string][]trace.Message {
	t.Helper()
	paths, err := filepath.Glob("../testdata/traces/*")
	require.NoError(t, err)
	out := map[string][]trace.Message{}
	for _, p := range paths {
		msgs, _, err := trace.Load(p)
		if err != nil {
			continue // not a trace (README, generator inputs...)
		}
		out[filepath.Base(p)] = msgs
	}
	if len(out) == 0 {
		t.Fatal("no trace fixtures in testdata/traces")
	}
	return out
}

// demoSwitch runs testdata/demo.yaml's routes and issuers with its
// simulators started here on free ports, and returns the switch address.
func demoSwitch(t *testing.T) string {
	t.Helper()
	cfg, err := config.Load("../testdata/demo.yaml")
	require.NoError(t, err)
	addrs := map[string]string{}
	for i, sc := range cfg.Simulators {
		sc.Listen = "127.0.0.1:0"
		addrs[cfg.Simulators[i].Listen] = startSim(t, sc).Addr()
	}
	cfg.Simulators = nil
	for i := range cfg.Issuers {
		for j, ep := range cfg.Issuers[i].Endpoints {
			if a, ok := addrs[ep]; ok {
				cfg.Issuers[i].Endpoints[j] = a
			} else {
				// down for the whole test: a port freed at once could
				// be taken by another test's listener, which would answer
				cfg.Issuers[i].Endpoints[j] = porttest.Addr(t)
			}
		}
	}
	cfg.Listen.Address = "127.0.0.1:0"
	sw, err := switchd.New(cfg, switchd.WithLogger(quietLog()))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sw.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for _, name := range []string{"bank-a", "bank-b"} {
		wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
		require.NoError(t, sw.WaitIssuer(wctx, name, func(up int) bool { return up >= 1 }), name)
		wcancel()
	}
	return sw.Addr().String()
}

// TestFixturesThroughSwitch replays every fixture through the switch with
// the demo routes: every response must match and carry its expected code.
func TestFixturesThroughSwitch(t *testing.T) {
	traces := fixtures(t)
	addr := demoSwitch(t)
	for name, msgs := range traces {
		t.Run(name, func(t *testing.T) {
			rep, err := Run(context.Background(), Options{Target: addr, Connections: 2, Concurrency: 4, Count: 2 * len(msgs)}, msgs)
			require.NoError(t, err)
			assert.EqualValues(t, 2*len(msgs), rep.Answered)
			assert.Zero(t, rep.Timeouts+rep.Errors)
			assert.Zero(t, rep.ValidationFailures, "%v", rep.Failures)
		})
	}
}

// TestFixturesAgainstSimulator replays every fixture straight to an issuer
// simulator configured like the demo's bank-a. Codes only the switch gives
// (15, 91 from a dead issuer) cannot come from a simulator, so
// expectations are dropped: matching (MTI, STAN, RRN) is still checked.
func TestFixturesAgainstSimulator(t *testing.T) {
	traces := fixtures(t)
	cfg, err := config.Load("../testdata/demo.yaml")
	require.NoError(t, err)
	sc := cfg.Simulators[0]
	sc.Listen = "127.0.0.1:0"
	sim := startSim(t, sc)
	for name, msgs := range traces {
		t.Run(name, func(t *testing.T) {
			msgs := append([]trace.Message(nil), msgs...)
			for i := range msgs {
				msgs[i].Expect = nil
			}
			rep, err := Run(context.Background(), Options{Target: sim.Addr(), Concurrency: 4,
				Timeout: 300 * time.Millisecond, MaxErrors: -1}, msgs)
			require.NoError(t, err)
			assert.EqualValues(t, len(msgs), rep.Answered+rep.Timeouts, "answered, or a no-answer rule")
			assert.Zero(t, rep.Errors)
			for _, f := range rep.Failures {
				assert.Contains(t, f.Reason, "unparseable response", "only the malformed-answer rule may fail")
			}
		})
	}
}

// TestRecordedFixtureTiming replays a timed fixture with its own gaps.
func TestRecordedFixtureTiming(t *testing.T) {
	traces := fixtures(t)
	addr := demoSwitch(t)
	for name, msgs := range traces {
		if msgs[0].At < 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			rep, err := Run(context.Background(), Options{Target: addr, Recorded: true, Speed: 1000}, msgs)
			require.NoError(t, err)
			assert.Equal(t, ModeRecorded, rep.Mode)
			assert.Zero(t, rep.ValidationFailures, "%v", rep.Failures)
		})
	}
}

// TestFixturesInDialects replays every fixture (JSON Lines, jPOS logs,
// captures: 1987 values) to a simulator speaking each 1987 dialect, the
// requests re-encoded and framed in it and the answers read in it. As in
// TestFixturesAgainstSimulator, expectations are dropped; the simulator's
// malformed answers must be reported as unparseable, not lost.
func TestFixturesInDialects(t *testing.T) {
	traces := fixtures(t)
	cfg, err := config.Load("../testdata/demo.yaml")
	require.NoError(t, err)
	for _, d := range iso.BuiltinDialects() {
		if d.Version != 1987 || d.Name == "iso87ascii" {
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			sc := cfg.Simulators[0]
			sc.Listen, sc.Dialect = "127.0.0.1:0", d.Name
			sim := startSim(t, sc)
			for name, msgs := range traces {
				msgs := append([]trace.Message(nil), msgs...)
				for i := range msgs {
					msgs[i].Expect = nil
				}
				rep, err := Run(context.Background(), Options{Target: sim.Addr(), Dialect: d, Concurrency: 4,
					Timeout: 300 * time.Millisecond, MaxErrors: -1}, msgs)
				require.NoError(t, err, name)
				assert.EqualValues(t, len(msgs), rep.Answered+rep.Timeouts, "%s: answered, or a no-answer rule", name)
				assert.Zero(t, rep.Errors, name)
				for _, f := range rep.Failures {
					assert.Contains(t, f.Reason, "unparseable response", "%s: only the malformed-answer rule may fail", name)
				}
			}
		})
	}
}

// A broken answer in a re-encoded dialect is matched by its STAN and
// reported as unparseable (naming no value), like one in iso87ascii;
// before this it could only time out.
func TestMalformedAnswerInDialect(t *testing.T) {
	d, err := iso.LookupDialect("iso87binary-tpdu")
	require.NoError(t, err)
	sim := startSim(t, config.Simulator{Dialect: d.Name, Rules: []config.SimRule{{PANSuffix: "0096", Malformed: true}}})
	msgs, _, err := trace.Parse(strings.NewReader(`{"0":"0100","2":"4111111111111111","4":1000,"11":1,"37":"000000000001","41":"TERM0001","expect":"00"}
{"0":"0100","2":"4111111111110096","4":1000,"11":2,"37":"000000000002","41":"TERM0001"}
`), "t.jsonl")
	require.NoError(t, err)
	rep, err := Run(context.Background(), Options{Target: sim.Addr(), Dialect: d, MaxErrors: -1}, msgs)
	require.NoError(t, err)
	assert.EqualValues(t, 2, rep.Answered)
	assert.Zero(t, rep.Timeouts+rep.Errors)
	require.EqualValues(t, 1, rep.ValidationFailures)
	assert.Contains(t, rep.Failures[0].Reason, "unparseable response: field")
	assert.NotContains(t, rep.Failures[0].Reason, "4111111111110096")
}

// A jPOS log of a 1993 session (iso93ascii packager: 1100, 12 as
// YYMMDDhhmmss, 3-digit action codes received) replays in a 1993 binary
// dialect with its expectations checked.
func TestJPOSLogIn1993Dialect(t *testing.T) {
	d, err := dialectio.Lookup("iso93binary")
	require.NoError(t, err)
	spec, err := dialectio.TextSpec(d)
	require.NoError(t, err)
	sim := startSim(t, config.Simulator{Dialect: d.Name, Rules: []config.SimRule{{PANSuffix: "0051", Code: "51"}}})
	log := `<log realm="channel" at="2026-12-07T10:00:00.000"><send><isomsg>
  <field id="0" value="1100"/><field id="2" value="4111111111110051"/><field id="4" value="000000001000"/>
  <field id="11" value="000042"/><field id="12" value="261207100000"/><field id="41" value="TERM 01"/>
</isomsg></send></log>
<log realm="channel" at="2026-12-07T10:00:00.010"><receive><isomsg>
  <field id="0" value="1110"/><field id="11" value="000042"/><field id="39" value="116"/>
</isomsg></receive></log>`
	msgs, format, err := trace.ParseLogSpec(strings.NewReader(log), "t.xml", quietLog(), spec)
	require.NoError(t, err)
	require.Equal(t, trace.FormatJPOSXML, format)
	require.Len(t, msgs, 1)
	assert.Equal(t, []string{"116"}, msgs[0].Expect)
	rep, err := Run(context.Background(), Options{Target: sim.Addr(), Dialect: d}, msgs)
	require.NoError(t, err)
	assert.EqualValues(t, 1, rep.Answered)
	assert.Zero(t, rep.ValidationFailures, "%v", rep.Failures)
	assert.EqualValues(t, 1, rep.Codes["116"])
}

// With Translate, canonical traces go out in each built-in dialect through
// the translator and come back readable: the approving echo speaking the
// dialect (NewEchoServerIn) answers every request 00 (000 in 1993, read
// back as 00), its RRN echoed, nothing lost. The bench's generator and
// lean issuer run this way with --dialect.
func TestTranslateInEveryDialect(t *testing.T) {
	msgs := trace.Generate(trace.GenOptions{Count: 200, Seed: 1})
	for i := range msgs {
		msgs[i].Expect = []string{"00"}
	}
	for _, d := range iso.BuiltinDialects() {
		t.Run(d.Name, func(t *testing.T) {
			e, err := NewEchoServerIn("127.0.0.1:0", d, true)
			require.NoError(t, err)
			t.Cleanup(func() { _ = e.Close() })
			rep, err := Run(context.Background(), Options{Target: e.Addr(), Dialect: d, Translate: true,
				Concurrency: 8, Connections: 2}, msgs)
			require.NoError(t, err)
			assert.EqualValues(t, len(msgs), rep.Answered)
			assert.Zero(t, rep.Timeouts+rep.Errors+rep.ValidationFailures, "%v", rep.Failures)
			assert.EqualValues(t, len(msgs), e.Requests())
		})
	}
}
