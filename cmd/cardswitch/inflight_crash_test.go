package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Nothing in flight is lost: kill -9 while an issuer holds its answers,
// restart on the same journal, and the issuer gets exactly one
// acknowledged 0420 (field 90 naming the link STAN it saw) for every
// request it received that no acquirer got an answer to, and none for the
// answered ones.
func TestKill9InFlightRequestsAreReversedAtRestart(t *testing.T) {
	const clients, delayedAt = 6, 40
	sim := startCrashSim(t, config.Simulator{Rules: []config.SimRule{{PANSuffix: "0007", Delay: time.Hour}}})
	path := filepath.Join(t.TempDir(), "journal.db")
	cfg := writeFile(t, "f.yaml", crashYAML(path, sim.Addr(), "60s"))
	p1 := startServe(t, "--config", cfg)
	addr := p1.waitLog(t, "cardswitch listening", nil)["addr"].(string)
	p1.waitLog(t, "issuer link up", nil)

	// Closed-loop clients: each sends answered requests, then one the
	// issuer holds, and waits for it. Once the issuer has every held one,
	// every other request was answered and its answer read.
	load, wait := runClients(addr, clients, false, func(seq int) string {
		if seq == delayedAt {
			return heldPAN
		}
		return "4111111111111111"
	})
	sim.wait(t, "every client's held request", func(rs []issuersim.Request) bool {
		return len(heldOf(rs)) == clients
	})
	require.NoError(t, p1.cmd.Process.Kill())
	wait()
	<-p1.done
	p1.done <- nil
	received := sim.wait(t, "", func([]issuersim.Request) bool { return true })
	// What kill -9 left (log segments with the in-flight records, the
	// database, its WAL) holds neither card in clear: the held requests'
	// PANs are in their records only sealed.
	assertNoCardOnDisk(t, filepath.Dir(path), heldPAN, "4111111111111111")

	p2 := startServe(t, "--config", cfg)
	owed := p2.waitLog(t, "journal open", nil)["reversals_owed"]
	assert.Equal(t, float64(clients), owed, "a reversal stored at the start for each request in flight")
	sim.wait(t, "the reversals", count("0420", clients))
	j, err := journal.OpenReadOnly(path, createdKeys(t, path)...)
	require.NoError(t, err)
	defer j.Close()
	require.Eventually(t, func() bool {
		n, err := j.ReversalCount()
		return err == nil && n == 0
	}, crashDeadline, 10*time.Millisecond, "reversals not acknowledged")
	all := sim.wait(t, "", func([]issuersim.Request) bool { return true }) // every 0420 sent until then

	assertOneReversalEach(t, load, received, reversalAttemptsOf(all), clients)
	// The PAN is sealed into the in-flight record: the rebuilt 0420 carries
	// it in field 2, as a timeout's does, for the issuer to find the hold.
	seen := sim.Reversals()
	require.Len(t, seen, len(reversalAttemptsOf(all)))
	for _, r := range seen {
		assert.Equal(t, heldPAN, r.Fields[2], "the recovered %s carries the request's PAN in field 2", r.MTI)
	}
}

// heldPAN is the card of the requests the simulator holds.
const heldPAN = "4111111111110007"

// assertOneReversalEach: every 0100 the issuer received that no client had
// an answer to has exactly one 0420 (field 90 naming its link STAN, its
// RRN and amount, 39 = 68), and no answered one has any.
func assertOneReversalEach(t *testing.T, load []*loadClient, received, reversals []issuersim.Request, want int) {
	t.Helper()
	answered := map[string]bool{}
	for _, c := range load {
		for _, a := range c.answers {
			answered[a.RRN] = true
		}
	}
	byLinkSTAN := map[string]issuersim.Request{}
	for _, r := range received {
		if r.MTI == "0100" {
			byLinkSTAN[r.STAN] = r
		}
	}
	revs := map[string]int{} // link STAN named in field 90 -> 0420s
	for _, r := range reversals {
		require.GreaterOrEqual(t, len(r.Original), 10, "field 90 %q", r.Original)
		assert.Equal(t, "0100", r.Original[:4], "field 90's original MTI")
		revs[r.Original[4:10]]++
		orig := byLinkSTAN[r.Original[4:10]]
		assert.Equal(t, orig.RRN, r.RRN, "the 0420 carries its original's RRN")
		assert.Equal(t, orig.Amount, r.Amount, "the 0420 carries its original's amount")
		assert.Equal(t, "68", r.Code)
	}
	unanswered := 0
	for _, r := range received {
		if r.MTI != "0100" {
			continue
		}
		if answered[r.RRN] {
			assert.Zero(t, revs[r.STAN], "answered request rrn %s (link stan %s) reversed", r.RRN, r.STAN)
			continue
		}
		unanswered++
		assert.Equal(t, 1, revs[r.STAN], "request rrn %s (link stan %s) never answered: 0420s", r.RRN, r.STAN)
	}
	assert.Equal(t, want, unanswered)
	assert.Len(t, reversals, unanswered, "0420s beyond one per unanswered request")
}

// heldOf is the requests the simulator holds (their PAN ends 0007).
func heldOf(rs []issuersim.Request) []issuersim.Request {
	var out []issuersim.Request
	for _, r := range rs {
		if r.MTI == "0100" && len(r.MaskedPAN) >= 4 && r.MaskedPAN[len(r.MaskedPAN)-4:] == "0007" {
			out = append(out, r)
		}
	}
	return out
}

// assertNoCardOnDisk fails if a file under dir holds 12 consecutive digits
// of any of pans.
func assertNoCardOnDisk(t *testing.T, dir string, pans ...string) {
	t.Helper()
	files := 0
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		files++
		for _, pan := range pans {
			for i := 0; i+12 <= len(pan); i++ {
				assert.False(t, bytes.Contains(b, []byte(pan[i:i+12])), "%s holds digits %d-%d of a PAN", p, i+1, i+12)
			}
		}
		return nil
	}))
	require.NotZero(t, files)
}
