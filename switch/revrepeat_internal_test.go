package switchd

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unrecorded is the journal with its database down for the outcomes of
// stored messages: acknowledgements and attempts fail while down is set,
// as PostgreSQL's do in an outage (everything else is the real journal).
type unrecorded struct {
	journal.Store
	down bool
}

var errDown = errors.New("journal: database unreachable")

func (u *unrecorded) ReversalAcked(id int64, code string) error {
	if u.down {
		return errDown
	}
	return u.Store.ReversalAcked(id, code)
}

func (u *unrecorded) ReversalAttempted(id int64, next time.Time, lastErr string) error {
	if u.down {
		return errDown
	}
	return u.Store.ReversalAttempted(id, next, lastErr)
}

func (u *unrecorded) ReversalRepeated(rv *journal.Reversal, frame []byte, next time.Time, lastErr string) error {
	if u.down {
		return errDown
	}
	return u.Store.ReversalRepeated(rv, frame, next, lastErr)
}

// TestReversalWhoseOutcomeWasLostGoesOutAsRepeat: a 0420 that went out
// and was acknowledged while the journal could not record it (its
// database down) is still owed in the journal, as its first attempt, 0420.
// The issuer has it, so the next attempt must be its repeat, 0421 (issue
// 21 point 3); likewise after an attempt whose failure was not recorded.
// If that repeat fails too, the journal then holds the 0421, and once
// its outcome is recorded the node stops remembering it.
func TestReversalWhoseOutcomeWasLostGoesOutAsRepeat(t *testing.T) {
	s, r := reversalRig(t)
	u := &unrecorded{Store: s.jrnl}
	r.j = u
	due := storeOneTimeout(t, s, r)
	require.Equal(t, "0420", mtiOf(t, s, due.Frame))
	require.Equal(t, "0420", mtiOf(t, s, r.repeatOf(due)), "never sent: as stored")

	u.down = true
	r.result(revResult{rv: due, code: "00", sent: true}) // acknowledged, not recorded
	assert.Equal(t, "0421", mtiOf(t, s, r.repeatOf(due)), "the issuer has it: a repeat")
	assert.Equal(t, "0420", mtiOf(t, s, due.Frame), "the stored frame is left as it is")

	u.down = false
	r.result(revResult{rv: due, err: errors.New("no answer"), sent: true}) // the repeat timed out: recorded
	rows, err := s.jrnl.PendingReversals()
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "0421", mtiOf(t, s, rows[0].Frame), "the journal holds the repeat now")
	assert.Empty(t, r.wentOut, "recorded: no longer remembered")

	other := storeOneTimeout(t, s, r)
	u.down = true
	r.result(revResult{rv: other, err: errors.New("no answer"), sent: true}) // failed, not recorded
	assert.Equal(t, "0421", mtiOf(t, s, r.repeatOf(other)))
	r.result(revResult{rv: other, err: errors.New("no link")}) // never went out: nothing new
	assert.Equal(t, "0421", mtiOf(t, s, r.repeatOf(other)))
	u.down = false
	r.result(revResult{rv: other, code: "00", sent: true})
	assert.NotContains(t, r.wentOut, other.ID, "acknowledged and recorded: forgotten")
}

// reversalRig is a switch on a SQLite journal whose reversal manager is
// not started: the test runs its steps on its own goroutine.
func reversalRig(t *testing.T) (*Switch, *reversalMgr) {
	t.Helper()
	cfg, err := config.LoadBytes("t.yaml", []byte(`listen: {address: "127.0.0.1:0"}
issuers:
  - {name: bank, endpoints: ["127.0.0.1:1"]}
routes: [{bin: "4", issuer: bank}]
journal: {path: "`+filepath.Join(t.TempDir(), "j.db")+`"}
`))
	require.NoError(t, err)
	s, err := New(cfg, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), WithWatch(false))
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, l := range s.listeners {
			_ = l.ln.Close()
		}
		s.closeJournal()
	})
	return s, s.revs
}

var rigSTAN uint32

// storeOneTimeout stores the 0420 of a timed-out request (a new STAN each
// call) and returns it as the journal holds it.
func storeOneTimeout(t *testing.T, s *Switch, r *reversalMgr) journal.Reversal {
	t.Helper()
	before, err := s.jrnl.PendingReversals()
	require.NoError(t, err)
	rigSTAN++
	m, err := acqclient.Request{PAN: "4111111111111111", Amount: 100, STAN: int(rigSTAN),
		RRN: fmt.Sprintf("%012d", rigSTAN), Terminal: "TERM0001"}.Message()
	require.NoError(t, err)
	frame, err := m.Pack()
	require.NoError(t, err)
	var v iso.View
	require.NoError(t, s.scanner.Scan(frame, &v))
	tx := &request{}
	tx.Issuer = "bank"
	tx.SetFrame(frame)
	copy(tx.MTI[:], v.MTI())
	copy(tx.STAN[:], v.Field(11))
	r.timedOut(tx, &v, deferred{})
	r.storeBatch(<-r.stores)
	after, err := s.jrnl.PendingReversals()
	require.NoError(t, err)
	require.Len(t, after, len(before)+1)
	for _, rv := range after {
		if !containsID(before, rv.ID) {
			return rv
		}
	}
	t.Fatal("no new reversal stored")
	return journal.Reversal{}
}

func containsID(rs []journal.Reversal, id int64) bool {
	for _, rv := range rs {
		if rv.ID == id {
			return true
		}
	}
	return false
}

func mtiOf(t *testing.T, s *Switch, frame []byte) string {
	t.Helper()
	var v iso.View
	require.NoError(t, s.scanner.Scan(frame, &v))
	return string(v.MTI())
}
