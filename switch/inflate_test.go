package switchd_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/cardswitch/cardswitch/switch/metrics"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// floodFrames writes frames on one connection, then a final 0800, while
// it reads want answers and the 0810: one connection's frames are handled
// in order, so every frame was handled once both are in (answers relayed
// from the issuer may come after the 0810).
func floodFrames(t *testing.T, c *rawConn, frames [][]byte, want int) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		for _, f := range frames {
			if err := iso.WriteFrame(c, f); err != nil {
				errc <- err
				return
			}
		}
		errc <- iso.WriteFrame(c, pack(t, acqclient.Request{MTI: "0800", STAN: 999_999}))
	}()
	answers, marker := 0, false
	for answers < want || !marker {
		m := c.read(t)
		if mti(t, m) == "0810" && wire(t, m, 11) == "999999" {
			marker = true
			continue
		}
		answers++
	}
	require.NoError(t, <-errc)
	require.Equal(t, want, answers)
}

// logLines decodes a JSON log.
func logLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
		out = append(out, m)
	}
	return out
}

// 10,000 frames that each provoke a warning (response MTIs from an
// acquirer) yield at most the burst of lines per interval and a summary
// that counts the rest. The interval is an hour: the flood spans at most
// two windows, however slow the machine.
func TestFrameFloodLogsAreRateLimited(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	log, buf := jsonLogger()
	limits := switchd.DefaultLimits
	limits.LogInterval = time.Hour
	sw := opsRun(t, opsLoad(t, bankYAML(sim.Addr())), switchd.WithLogger(log), switchd.WithLimits(limits))
	opsWaitUp(t, sw, "bank")

	const n = 10_000
	resp := pack(t, acqclient.Request{MTI: "0110", STAN: 1})
	frames := make([][]byte, n)
	for i := range frames {
		frames[i] = resp
	}
	floodFrames(t, dialRaw(t, sw.addr), frames, 0) // response MTIs are not answered
	sw.stop()                                      // writes the summaries owed

	const msg = "acquirer sent a non-request message; ignored"
	var lines, summaries int
	var suppressed float64
	for _, l := range logLines(t, buf.String()) {
		switch {
		case l["msg"] == msg:
			lines++
		case l["msg"] == "log lines suppressed by the rate limit" && l["message"] == msg:
			summaries++
			suppressed += l["suppressed"].(float64)
			assert.Equal(t, "WARN", l["level"])
		}
	}
	assert.LessOrEqual(t, lines, 2*limits.LogBurst, "at most the burst per window")
	assert.Positive(t, lines)
	assert.LessOrEqual(t, summaries, 2, "one summary per window")
	assert.Equal(t, n, lines+int(suppressed), "every line is written or counted")
}

// knownMTIs are the request MTIs cardswitch_requests_total keeps as
// labels: version 0; authorization, financial, reversal, network
// management; request or advice; from the acquirer or its repeat.
func knownMTIs() map[string]bool {
	known := map[string]bool{"other": true}
	for _, class := range "1248" {
		for _, function := range "02" {
			for _, origin := range "01" {
				known[fmt.Sprintf("0%c%c%c", class, function, origin)] = true
			}
		}
	}
	return known
}

// Every MTI from 0000 to 9999 on an otherwise good authorization: the
// request MTIs are answered, and cardswitch_requests_total has only the
// known MTI labels and other.
func TestEveryMTILeavesOnlyKnownLabels(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	sw := startSwitch(t, "admin: {address: 127.0.0.1:0}\n"+bankYAML(sim.Addr()), "bank")
	good := pack(t, auth("4111111111111111", 100, 1))
	frames := make([][]byte, 0, 10_000)
	requests := 0
	for i := range 10_000 {
		f := append([]byte(fmt.Sprintf("%04d", i)), good[4:]...)
		if iso.IsRequestMTI(f[:4]) {
			requests++
		}
		frames = append(frames, f)
	}
	floodFrames(t, dialRaw(t, sw.addr), frames, requests)

	fams, err := sw.Metrics().Registry().Gather()
	require.NoError(t, err)
	known, seen := knownMTIs(), map[string]bool{}
	for _, f := range fams {
		if f.GetName() != metrics.NameRequests {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "mti" {
					seen[l.GetValue()] = true
				}
			}
		}
	}
	var unknown []string
	for mti := range seen {
		if !known[mti] {
			unknown = append(unknown, mti)
		}
	}
	assert.Empty(t, unknown, "%d mti label values outside the known set", len(unknown))
	assert.True(t, seen["0100"] && seen["other"])
	_, body := opsHTTP(t, "GET", "http://"+sw.AdminAddr()+"/metrics")
	assert.LessOrEqual(t, strings.Count(body, metrics.NameRequests+"{"), 2*len(known), "series of %s", metrics.NameRequests)
}
