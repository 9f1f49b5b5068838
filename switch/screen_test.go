package switchd_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cardswitch/cardswitch/journal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// misalignedPAN is the card of issue 19's misaligned message.
const misalignedPAN = "4761739001010119"

// misaligned0100 is issue 19's message: an 0100 whose bitmap omits bit 2
// while field 2 ("16" + the PAN) is on the wire, so that the PAN's digits
// scan as the processing code (164761) and the amount (739001010119); its
// RRN holds 12 more of them and its track 2 routes it.
func misaligned0100(t testing.TB, stan int) []byte {
	t.Helper()
	r := auth("", 0, stan)
	r.Track2 = misalignedPAN + "=25121010000"
	m, err := r.Message()
	require.NoError(t, err)
	for id, val := range map[int]string{3: "164761", 4: "739001010119", 37: "617390010101"} {
		require.NoError(t, m.Field(id, val))
	}
	b, err := m.Pack()
	require.NoError(t, err)
	require.Contains(t, string(b), "16"+misalignedPAN, "field 2's bytes, with bit 2 clear")
	return b
}

// TestMisalignedMessageLeavesNoPANInJournal: the misaligned 0100 of issue
// 19 is answered 30, and no 12 consecutive digits of its PAN are in any
// journal column or in any file of the journal's folder.
func TestMisalignedMessageLeavesNoPANInJournal(t *testing.T) {
	sim, _ := startWatchedSim(t, lostSim(0))
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, sim.Addr(), "5s", ""), "bank")
	c := dialRaw(t, sw.addr)
	c.write(t, misaligned0100(t, 19))
	require.Equal(t, "30", str(t, c.read(t), 39))

	require.NoError(t, sw.FlushJournal(context.Background()))
	assertNoPANWindow(t, path, misalignedPAN) // in the log segment
	sw.stop()                                 // indexed into SQLite, WAL checkpointed
	es := assertNoPANWindow(t, path, misalignedPAN)
	require.Len(t, es, 1)
	assert.Equal(t, journal.Entry{ID: es[0].ID, Time: es[0].Time, Conn: es[0].Conn, Remote: es[0].Remote,
		Latency: es[0].Latency, MTI: "0100", STAN: "000019", ResponseCode: "30", Outcome: journal.SwitchDeclined,
		Reason: "field 3 (processing code): not a known transaction type and account types"}, es[0])
}

// assertNoPANWindow fails if any file under the journal's folder (the
// SQLite database, its WAL, the log segments) or any column of any entry,
// read back decoded, holds 12 consecutive digits of pan, or if an entry's
// pan column is neither empty nor pan masked. It returns the entries.
func assertNoPANWindow(t *testing.T, db, pan string) []journal.Entry {
	t.Helper()
	files := 0
	err := filepath.WalkDir(filepath.Dir(db), func(f string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		files++
		for i := 0; i+12 <= len(pan); i++ {
			assert.False(t, bytes.Contains(b, []byte(pan[i:i+12])), "%s holds digits %d-%d of the PAN", f, i+1, i+12)
		}
		return nil
	})
	require.NoError(t, err)
	require.NotZero(t, files)

	es, err := openJournal(t, db).List(context.Background(), journal.Filter{Limit: 1 << 20})
	require.NoError(t, err)
	masked := pan[:6] + strings.Repeat("*", len(pan)-10) + pan[len(pan)-4:]
	for _, e := range es {
		for name, col := range map[string]string{"acquirer": e.Acquirer, "remote": e.Remote, "issuer": e.Issuer,
			"mti": e.MTI, "processing_code": e.ProcessingCode, "amount": e.Amount, "currency": e.Currency,
			"stan": e.STAN, "rrn": e.RRN, "terminal": e.Terminal, "transmission_time": e.TransmissionTime,
			"response_code": e.ResponseCode, "outcome": string(e.Outcome), "reason": e.Reason} {
			for i := 0; i+12 <= len(pan); i++ {
				assert.NotContains(t, col, pan[i:i+12], "entry %d column %s", e.ID, name)
			}
		}
		if e.PAN != "" {
			assert.Equal(t, masked, e.PAN, "entry %d: pan column", e.ID)
		}
	}
	return es
}

// contentRule is one request of TestContentRulesRefuse, sent with STAN its
// key: auth's request with fields set to new values.
type contentRule struct {
	mti    string
	track  bool // the card in track 2 (35) only
	set    map[int]string
	reason string // "" when the request is not refused
	value  string // what the reason must not echo
}

// contentRules: each content rule and the card-data guard, and requests
// that pass them (15: a bare reversal, the PAN and 11 only).
var contentRules = map[int]contentRule{
	1:  {"0100", false, map[int]string{7: "1326043000"}, "field 7 (transmission date and time): not a valid MMDDhhmmss", "1326043000"},
	2:  {"0100", false, map[int]string{7: "0230120000"}, "field 7 (transmission date and time): not a valid MMDDhhmmss", "0230120000"},
	3:  {"0100", false, map[int]string{7: "1126243000"}, "field 7 (transmission date and time): not a valid MMDDhhmmss", "1126243000"},
	4:  {"0100", false, map[int]string{3: "164761"}, "field 3 (processing code): not a known transaction type and account types", "164761"},
	5:  {"0200", false, map[int]string{3: "650000"}, "field 3 (processing code): not a known transaction type and account types", "650000"},
	6:  {"0100", false, map[int]string{49: "USD"}, "field 49 (currency code): not a numeric currency code", "USD"},
	7:  {"0100", false, map[int]string{12: "246000"}, "field 12 (local time): not a valid hhmmss", "246000"},
	8:  {"0100", false, map[int]string{13: "0431"}, "field 13 (local date): not a valid MMDD", "0431"},
	9:  {"0400", false, map[int]string{7: "0000000000"}, "field 7 (transmission date and time): not a valid MMDDhhmmss", "0000000000"},
	10: {"0100", false, map[int]string{4: "411111111111"}, "field 4 holds 12 or more digits of the card number: misaligned message", "411111111111"},
	11: {"0100", false, map[int]string{37: "1=2512101000"}, "field 37 holds a track data separator ('=' or '^'): misaligned message", "2512101000"},
	12: {"0100", false, map[int]string{41: "11=25121"}, "field 41 holds a track data separator ('=' or '^'): misaligned message", "25121"},
	13: {"0100", false, map[int]string{}, "", ""},
	14: {"0100", false, map[int]string{3: "301000", 4: "000000000000"}, "", ""}, // balance inquiry, zero amount
	15: {"0400", false, map[int]string{}, "", ""},
	16: {"0100", true, map[int]string{37: "111111111111"}, "field 37 holds 12 or more digits of the card number: misaligned message", "111111111111"},
}

// TestContentRulesRefuse: each content rule, and the card-data guard,
// refuses its request with 30; the journal has the request's MTI, STAN and
// a reason naming the field (never its value), and nothing else from it.
// A reversal still needs only a PAN and 11, but what it carries is
// checked too.
func TestContentRulesRefuse(t *testing.T) {
	sim, _ := startWatchedSim(t, lostSim(0))
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, sim.Addr(), "5s", ""), "bank")
	c := dialRaw(t, sw.addr)
	for stan := 1; stan <= len(contentRules); stan++ {
		r := contentRules[stan]
		c.write(t, contentRuleFrame(t, stan, r))
		want := "30"
		if r.reason == "" {
			want = "00"
		}
		require.Equal(t, want, str(t, c.read(t), 39), "stan %d", stan)
	}

	require.NoError(t, sw.FlushJournal(context.Background()))
	es, err := openJournal(t, path).List(context.Background(), journal.Filter{Limit: 1 << 20})
	require.NoError(t, err)
	require.Len(t, es, len(contentRules))
	for _, e := range es {
		stan, err := strconv.Atoi(e.STAN)
		require.NoError(t, err)
		r, ok := contentRules[stan]
		require.True(t, ok, "entry %d: STAN %q", e.ID, e.STAN)
		if r.reason == "" {
			assert.NotEqual(t, "30", e.ResponseCode, "stan %d", stan)
			continue
		}
		assert.Equal(t, journal.Entry{ID: e.ID, Time: e.Time, Conn: e.Conn, Remote: e.Remote, Latency: e.Latency,
			MTI: r.mti, STAN: e.STAN, ResponseCode: "30", Outcome: journal.SwitchDeclined, Reason: r.reason}, e,
			"stan %d", stan)
		assert.NotContains(t, e.Reason, r.value, "stan %d: the reason echoes the value", stan)
	}
}

// contentRuleFrame packs rule r's request.
func contentRuleFrame(t *testing.T, stan int, r contentRule) []byte {
	t.Helper()
	req := auth(panApprove, 100, stan)
	req.MTI = r.mti
	if r.track {
		req.PAN, req.Track2 = "", panApprove+"=2512101"
	}
	m, err := req.Message()
	require.NoError(t, err)
	for id, val := range r.set {
		require.NoError(t, m.Field(id, val))
	}
	if stan == 15 { // a bare reversal: the PAN and 11 only
		for _, id := range []int{3, 4, 7, 12, 13, 37, 41, 42, 49} {
			m.UnsetField(id)
		}
	}
	b, err := m.Pack()
	require.NoError(t, err)
	return b
}
