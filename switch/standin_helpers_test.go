package switchd_test

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/require"
)

// siIssuer is an issuer for the stand-in tests. It always answers
// sign-ons; it answers echoes, authorizations and advices as told:
// holding authorizations (unanswered, kept to answer late), approving
// them, and acknowledging 0120/0121 advices or not. It records what it
// receives, and a test waits on it (no polling).
type siIssuer struct {
	issuerConns
	sc      *iso.Scanner
	hold    bool     // authorizations are not answered (kept in held)
	ackFrom int      // advices (0120/0121) are acknowledged from this attempt on (1: the first); 0: never
	auths   int      // authorizations received
	held    [][]byte // authorizations not answered
	heldOn  []net.Conn
	advices [][]byte // 0120/0121 received, in order
	revs    [][]byte // 0420/0421 received (each acknowledged)
	acked   int
	changed chan struct{}
}

func startSIIssuer(t *testing.T, hold bool, ackFrom int) *siIssuer {
	t.Helper()
	return startSIIssuerAt(t, "127.0.0.1:0", hold, ackFrom)
}

// startSIIssuerAt is startSIIssuer listening on addr.
func startSIIssuerAt(t *testing.T, addr string, hold bool, ackFrom int) *siIssuer {
	t.Helper()
	ln := listenAt(t, addr)
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	h := &siIssuer{issuerConns: issuerConns{ln: ln}, sc: sc, hold: hold, ackFrom: ackFrom, changed: make(chan struct{}, 1)}
	h.start(h.serve)
	t.Cleanup(h.close)
	return h
}

func (h *siIssuer) addr() string { return h.ln.Addr().String() }

func (h *siIssuer) serve(c net.Conn) {
	fr := iso.NewFrameReader(c, 65535)
	for {
		body, err := fr.Next()
		if err != nil {
			return
		}
		if resp := h.handle(c, append([]byte(nil), body...)); resp != nil {
			h.mu.Lock()
			err := iso.WriteFrame(c, resp)
			h.mu.Unlock()
			if err != nil {
				return
			}
		}
	}
}

// handle returns the answer to body, nil for none.
func (h *siIssuer) handle(c net.Conn, body []byte) []byte {
	var v iso.View
	if h.sc.Scan(body, &v) != nil {
		return nil
	}
	defer h.notify()
	h.mu.Lock()
	defer h.mu.Unlock()
	switch string(v.MTI()) {
	case "0800":
		resp, _ := iso.NetMgmtResponse(iso.Spec87(), body, "00")
		return resp
	case "0100":
		h.auths++
		if h.hold {
			h.held, h.heldOn = append(h.held, body), append(h.heldOn, c)
			return nil
		}
		resp, _ := iso.BuildResponse(iso.Spec87(), &v, "00")
		return resp
	case "0420", "0421":
		h.revs = append(h.revs, body)
		return answer0430(&v, nil)
	case "0120", "0121":
		h.advices = append(h.advices, body)
		if h.ackFrom == 0 || h.attempts(&v) < h.ackFrom {
			return nil
		}
		h.acked++
		resp, _ := iso.BuildResponse(iso.Spec87(), &v, "00")
		return resp
	}
	return nil
}

// attempts counts the advices received with v's RRN (v's included). h.mu held.
func (h *siIssuer) attempts(v *iso.View) int {
	n := 0
	for _, a := range h.advices {
		var av iso.View
		if h.sc.Scan(a, &av) == nil && bytes.Equal(av.Field(37), v.Field(37)) {
			n++
		}
	}
	return n
}

// answerHeld answers the held authorizations late with code, on the
// connection each came on.
func (h *siIssuer) answerHeld(t *testing.T, code string) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, body := range h.held {
		var v iso.View
		require.NoError(t, h.sc.Scan(body, &v))
		resp, err := iso.BuildResponse(iso.Spec87(), &v, code)
		require.NoError(t, err)
		require.NoError(t, iso.WriteFrame(h.heldOn[i], resp))
	}
	h.held, h.heldOn = nil, nil
}

// set changes how it answers from now on.
func (h *siIssuer) set(hold bool, ackFrom int) {
	h.mu.Lock()
	h.hold, h.ackFrom = hold, ackFrom
	h.mu.Unlock()
}

// dropLinks closes every connection: the switch reconnects and signs on.
func (h *siIssuer) dropLinks() {
	h.mu.Lock()
	for _, c := range h.conns {
		_ = c.Close()
	}
	h.conns, h.held, h.heldOn = nil, nil, nil
	h.mu.Unlock()
}

func (h *siIssuer) notify() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

// reversals is the 0420s and 0421s received.
func (h *siIssuer) reversals() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.revs...)
}

func (h *siIssuer) counts() (auths int, advices [][]byte, acked int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.auths, append([][]byte(nil), h.advices...), h.acked
}

// wait returns once cond holds on what the issuer received.
func (h *siIssuer) wait(t *testing.T, what string, cond func(auths int, advices [][]byte, acked int) bool) [][]byte {
	t.Helper()
	deadline := time.NewTimer(lostDeadline)
	defer deadline.Stop()
	for {
		auths, advices, acked := h.counts()
		if cond(auths, advices, acked) {
			return advices
		}
		select {
		case <-h.changed:
		case <-deadline.C:
			t.Fatalf("issuer: gave up waiting for %s; saw %d authorizations, %d advices, %d acked",
				what, auths, len(advices), acked)
		}
	}
}

func (h *siIssuer) close() {
	_ = h.ln.Close()
	h.dropLinks()
	h.wg.Wait()
}

// eventLog is a JSON logger whose lines a test can wait for.
type eventLog struct {
	logBuffer
	changed chan struct{}
}

func newEventLog() (*slog.Logger, *eventLog) {
	l := &eventLog{changed: make(chan struct{}, 1)}
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

func (l *eventLog) Write(p []byte) (int, error) {
	n, err := l.logBuffer.Write(p)
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return n, err
}

// count is how many lines have a message starting with prefix.
func (l *eventLog) count(prefix string) int {
	return strings.Count(l.String(), `"msg":"`+prefix)
}

// await returns once n lines have a message starting with prefix.
func (l *eventLog) await(t *testing.T, prefix string, n int) {
	t.Helper()
	deadline := time.NewTimer(lostDeadline)
	defer deadline.Stop()
	for l.count(prefix) < n {
		select {
		case <-l.changed:
		case <-deadline.C:
			t.Fatalf("no %d log lines %q in:\n%s", n, prefix, l.String())
		}
	}
}
