package switchd_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/cardswitch/cardswitch/switch/metrics"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lateIssuer answers every authorization only once the switch sends
// another request under the same link STAN: each answer comes long after
// its request timed out, at the moment another request holds its STAN
// (the switch reused it). Network management and reversals are answered
// at once.
type lateIssuer struct {
	ln       net.Listener
	sc       *iso.Scanner
	mu       sync.Mutex        // held: a reconnected link's reader may start before the old one ends
	held     map[string][]byte // the answer owed, by the link STAN it came under
	released atomic.Int64      // answers sent under a reused STAN
	wg       sync.WaitGroup
}

func startLateIssuer(t *testing.T) *lateIssuer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	li := &lateIssuer{ln: ln, sc: sc, held: make(map[string][]byte)}
	li.wg.Add(1)
	go li.accept()
	t.Cleanup(func() { _ = ln.Close(); li.wg.Wait() })
	return li
}

func (li *lateIssuer) accept() {
	defer li.wg.Done()
	for {
		c, err := li.ln.Accept()
		if err != nil {
			return
		}
		li.wg.Add(1)
		go li.serve(c)
	}
}

// serve reads the switch's requests on one link, and writes its answers,
// until the switch closes it.
func (li *lateIssuer) serve(c net.Conn) {
	defer li.wg.Done()
	defer func() { _ = c.Close() }()
	fr := iso.NewFrameReader(c, 65535)
	var v iso.View
	for {
		frame, err := fr.Next()
		if err != nil {
			return
		}
		if li.sc.Scan(frame, &v) != nil {
			continue
		}
		var out [][]byte
		switch mti := v.MTI(); {
		case mti[1] == '8':
			resp, err := iso.NetMgmtResponse(iso.Spec87(), frame, "00")
			if err != nil {
				return
			}
			out = append(out, resp)
		case mti[1] == '4':
			resp, _ := li.sc.AppendResponse(nil, &v, "00")
			out = append(out, resp)
		default:
			stan := string(v.Field(11))
			resp, _ := li.sc.AppendResponse(nil, &v, "00")
			li.mu.Lock()
			if old := li.held[stan]; old != nil {
				out = append(out, old)
				li.released.Add(1)
			}
			li.held[stan] = resp
			li.mu.Unlock()
		}
		for _, b := range out {
			if iso.WriteFrame(c, b) != nil {
				return
			}
		}
	}
}

// An answer reaches only its own request. Acquirers send authorizations,
// each with its own PAN, amount, RRN and STAN, to an issuer that answers
// each only once its link STAN is used again, long after the 91; the link
// has 16 STANs, so they wrap many times. No acquirer may ever get an
// answer carrying another request's 2, 4, 11 or 37; every issuer answer
// that came under a reused STAN is unmatched: counted, journaled (PAN
// masked) and not relayed.
func TestAnswerReachesOnlyItsOwnRequest(t *testing.T) {
	li := startLateIssuer(t)
	path := journalPath(t)
	lim := switchd.DefaultLimits
	lim.LinkSTANs, lim.LinkLateGrace = 16, time.Nanosecond
	sw := startSwitchOpts(t, lostYAML(path, li.ln.Addr().String(), "100ms", ""), []string{"bank"}, switchd.WithLimits(lim))

	const conns, perConn = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, conns*perConn*4)
	for c := range conns {
		cl := dial(t, sw.addr)
		wg.Go(func() {
			for i := range perConn {
				r := auth(fmt.Sprintf("4%02d1000000%05d", c, i), int64(c*1000+i+1), c*1000+i+1)
				r.RRN = fmt.Sprintf("%02d%010d", c, i)
				m, err := r.Message()
				if err != nil {
					errs <- err
					return
				}
				resp, err := cl.Send(m)
				if err != nil {
					errs <- err
					return
				}
				for _, id := range []int{2, 4, 11, 37} {
					want, _ := m.GetString(id)
					got, _ := resp.GetString(id)
					if got != want {
						errs <- fmt.Errorf("conn %d request %d got another request's answer: field %d %q, sent %q", c, i, id, got, want)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	require.NoError(t, errors.Join(all...))

	released := li.released.Load()
	require.Greater(t, released, int64(16), "the STANs did not wrap: the test proves nothing")
	require.Eventually(t, func() bool { return sw.Stats().UnmatchedAnswers >= 1 }, lostDeadline, 5*time.Millisecond)
	sw.stop()
	unmatched := sw.Stats().UnmatchedAnswers
	t.Logf("%d answers came under a reused STAN; %d unmatched", released, unmatched)
	assert.LessOrEqual(t, unmatched, released, "only answers under a reused STAN are unmatched")
	assert.Zero(t, sw.Stats().IssuerAnswers, "no issuer answer relayed: every one came after its timeout")
	assert.EqualValues(t, unmatched, counterValue(t, sw, metrics.NameUnmatched))

	j := openJournal(t, path)
	es, err := j.List(context.Background(), journal.Filter{Outcome: journal.Unmatched})
	require.NoError(t, err)
	assert.Len(t, es, int(unmatched), "each unmatched answer journaled")
	for _, e := range es {
		assert.Regexp(t, `^4\d{5}\*+\d{4}$`, e.PAN, "masked")
		assert.Equal(t, "00", e.ResponseCode)
	}
}

// startSwitchOpts is startSwitch with options for New.
func startSwitchOpts(t *testing.T, yaml string, wantUp []string, opts ...switchd.Option) *running {
	t.Helper()
	cfg, err := config.LoadBytes(t.Name()+".yaml", []byte(yaml))
	require.NoError(t, err)
	cfg.Listen.Address = "127.0.0.1:0"
	return runSwitch(t, cfg, wantUp, append([]switchd.Option{switchd.WithLogger(testLog(t))}, opts...)...)
}
