package switchd_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// directVariants are CARDSWITCH_WIRE_DIRECT's values; every test here
// runs with each (switchd.WithWireDirect), off being today's build.
var directVariants = []string{"off", "req", "ans", "both", "ans1", "both1"}

// Whichever goroutine writes a burst (the reader that queued it or the
// connection's writer), frames keep their order: several acquirer
// connections pipelining bursts into one issuer link (a host answering
// each read in one write), with the journal on (every batch passes its
// gate first), get every answer in the order of their requests, and the
// link's requests reach the host in the order the link numbered them.
func TestDirectVariantsKeepOrder(t *testing.T) {
	const conns, bursts, per = 4, 8, 6
	for _, variant := range directVariants {
		t.Run(variant, func(t *testing.T) {
			is := startReadsIssuer(t)
			yaml := fmt.Sprintf("journal: {path: %q}\n", journalPath(t)) + connectionsYAML(is.ln.Addr().String(), 1)
			sw := opsRun(t, opsLoad(t, yaml), switchd.WithWireDirect(variant))
			opsWaitUp(t, sw, "bank")
			var wg sync.WaitGroup
			for k := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					pipelineBursts(t, sw.addr, 1000*(k+1), bursts, per)
				}()
			}
			wg.Wait()
			total := 0
			for i, stans := range is.linkSTANs() {
				total += len(stans)
				for j := 1; j < len(stans); j++ {
					require.Less(t, stans[j-1], stans[j], "link %d: request %d came out of order: %v", i, j, stans)
				}
			}
			assert.Equal(t, conns*bursts*per, total, "every request reached the host")
		})
	}
}

// pipelineBursts writes n bursts of per authorizations (STANs from
// first), each in one write, without waiting for answers, then reads
// every answer and checks they came in request order.
func pipelineBursts(t *testing.T, addr string, first, n, per int) {
	c := dialRaw(t, addr)
	stan := first
	for range n {
		var out []byte
		for range per {
			out = iso.AppendFrame(out, pack(t, auth("4111111111111111", 100, stan)))
			stan++
		}
		if _, err := c.Write(out); err != nil {
			t.Error(err)
			return
		}
	}
	for want := first; want < stan; want++ {
		m := c.read(t)
		assert.Equal(t, fmt.Sprintf("%06d", want), wire(t, m, 11), "answers in request order")
		assert.Equal(t, "00", str(t, m, 39))
	}
}

// A link reader writing answers itself never waits on an acquirer that
// does not read them: its socket full, the rest is left to that
// connection's writer, the link keeps reading (every answer comes back
// from the issuer) and another acquirer is served; once the slow one
// reads, it gets all its answers.
func TestDirectSlowAcquirerNeverStallsTheLink(t *testing.T) {
	for _, variant := range directVariants {
		t.Run(variant, func(t *testing.T) {
			sim := startSim(t, config.Simulator{})
			limits := switchd.DefaultLimits
			limits.AcquirerBacklog = 64 << 20   // never reached here
			limits.AcquirerSendBuffer = 8 << 10 // the answers back up after a few KiB in the kernel
			const n = 3000                      // ~500 KiB of answers: far more than the kernel buffers hold
			limits.LinkInFlight = 2 * n
			yaml := "listen: {max_in_flight: 5000}\nissuers:\n" + issuerYAML("bank", "30s", sim.Addr()) +
				"routes:\n  - {bin: \"4\", issuer: bank}\n"
			sw := opsRun(t, opsLoad(t, yaml), switchd.WithLimits(limits), switchd.WithWireDirect(variant))
			opsWaitUp(t, sw, "bank")
			slow := dialSmallWindow(t, sw.addr)
			var batch []byte
			for i := range n {
				batch = iso.AppendFrame(batch, pack(t, auth("4111111111111111", 100, i+1)))
			}
			require.NoError(t, slow.SetWriteDeadline(time.Now().Add(30*time.Second)))
			_, err := slow.Write(batch)
			require.NoError(t, err)
			// A failure detector, not a speed check: a link reader stuck
			// on the slow socket would stop reading the issuer's answers.
			require.Eventually(t, func() bool { return sw.Stats().IssuerAnswers == n }, 30*time.Second,
				10*time.Millisecond, "issuer answers; switch stats %+v", sw.Stats())
			polite := dialRaw(t, sw.addr)
			polite.write(t, pack(t, auth("4111111111111111", 100, 999999)))
			stan, code := answer(t, polite)
			assert.Equal(t, "999999", stan)
			assert.Equal(t, "00", code)
			got := make(map[string]bool, n)
			fr := iso.NewFrameReader(slow, 65535)
			require.NoError(t, slow.SetReadDeadline(time.Now().Add(30*time.Second)))
			sc, err := iso.NewScanner(iso.Spec87())
			require.NoError(t, err)
			var v iso.View
			for range n {
				body, err := fr.Next()
				require.NoError(t, err, "after %d answers", len(got))
				require.NoError(t, sc.Scan(body, &v))
				got[string(v.Field(11))] = true
			}
			assert.Len(t, got, n, "every answer, once")
		})
	}
}
