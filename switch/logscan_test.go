package switchd_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/journal"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logBuffer collects a switch's log output for inspection.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// jsonLogger logs JSON at debug level to a new buffer.
func jsonLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// Card data used by TestNoCardDataInLogsOrJournal; none of it may appear
// in a log line or in the journal's files.
const (
	scanPAN       = "4111111111111111"
	scanDeclined  = "4111111111110051"
	scanNoRoute   = "6011000000000004"
	scanDownPAN   = "5555555555554444"
	scanTrackPAN  = "4000056655665556"
	scanTrack2    = scanTrackPAN + "=25121010000012345678"
	scanTrackTail = "=25121010000012345678"
	scanPINBlock  = "0123456789ABCDEF"
)

// TestNoCardDataInLogsOrJournal runs approvals, declines, 15s, 30s, 91s
// (issuer late, whose reversal is stored), stand-in decisions for an
// issuer that is down (whose advices are stored) and track-2-only
// requests through a switch logging JSON at debug level with a journal,
// then scans every log line and the journal's files for card data.
func TestNoCardDataInLogsOrJournal(t *testing.T) {
	log, logs := jsonLogger()
	sim, err := issuersim.New(config.Simulator{Name: "scan", Listen: "127.0.0.1:0", DeclineAbove: 100000,
		Rules: []config.SimRule{{PANSuffix: "0051", Code: "51"}, {Amount: 999, NoAnswer: true}}}, log)
	require.NoError(t, err)
	simDone := make(chan struct{})
	go func() { defer close(simDone); _ = sim.Serve() }()
	t.Cleanup(func() { _ = sim.Close(); <-simDone })

	dir := t.TempDir()
	db := filepath.Join(dir, "journal.db")
	cfg := opsLoad(t, fmt.Sprintf("journal: {path: %s}\nreversals: {retry_min: 50ms, retry_max: 200ms}\nissuers:\n", db)+
		issuerYAML("bank", "1s", sim.Addr())+issuerYAML("down", "1s", deadAddr(t))+
		"    stand_in: {enabled: true, max_amount: 1000}\n"+
		"routes:\n  - {bin: \"4\", issuer: bank}\n  - {bin: \"5\", issuer: down}\n")
	sw := opsRun(t, cfg, switchd.WithLogger(log))
	opsWaitUp(t, sw, "bank")

	c := dialRaw(t, sw.addr)
	exchange := func(body []byte, want string) {
		t.Helper()
		c.write(t, body)
		assert.Equal(t, want, str(t, c.read(t), 39))
	}
	withPIN := func(r acqclient.Request) []byte {
		m, err := r.Message()
		require.NoError(t, err)
		require.NoError(t, m.BinaryField(52, []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF}))
		b, err := m.Pack()
		require.NoError(t, err)
		return b
	}
	exchange(withPIN(auth(scanPAN, 100, 1)), "00")
	exchange(pack(t, auth(scanDeclined, 100, 2)), "51")
	exchange(pack(t, auth(scanPAN, 200000, 3)), "51")
	exchange(pack(t, auth(scanNoRoute, 100, 4)), "15")
	exchange(pack(t, auth(scanDownPAN, 100, 5)), "00") // stand-in: an advice with the PAN is stored
	exchange(pack(t, auth(scanPAN, 999, 6)), "91")     // late issuer: a reversal is stored
	track := auth("", 100, 7)
	track.Track2 = scanTrack2
	exchange(withPIN(track), "00")
	track.STAN, track.Track2 = 11, scanDownPAN+scanTrackTail
	exchange(withPIN(track), "00") // stand-in from track 2, with a PIN block
	bad := pack(t, auth(scanPAN, 100, 8))
	copy(bad[4+16+2+16+6:], "12AB") // letters in the amount
	exchange(bad, "30")
	track.STAN = 10
	badTrack := pack(t, track)
	copy(badTrack[4+16+6:], "12AB") // letters in the amount (no field 2)
	exchange(badTrack, "30")
	badPAN := pack(t, auth(scanPAN, 100, 9))
	copy(badPAN[4+16+2+10:], "X") // a letter inside the PAN itself
	exchange(badPAN, "30")
	assertNoCardData(t, db, scanSecrets...) // every answered entry is in the log segment now
	sw.stop()                               // indexes the log into SQLite and removes it

	out := logs.String()
	require.Contains(t, out, `"level":"DEBUG"`, "debug logging was on")
	require.Contains(t, out, "411111******1111", "requests were logged, masked")
	for i, line := range strings.Split(out, "\n") {
		for _, secret := range scanSecrets {
			assert.NotContains(t, line, secret, "log line %d", i+1)
		}
	}
	// SQLite (and an empty log) after the clean stop
	require.NotZero(t, assertNoCardData(t, db, scanSecrets...), "entries read back decoded")
}

// scanSecrets is the card data the log scan sends.
var scanSecrets = []string{scanPAN, scanDeclined, scanNoRoute, scanDownPAN, scanTrackPAN, scanTrackTail, scanPINBlock}

// assertNoCardData reads every file of the journal at db (SQLite, its WAL,
// the log segments) and fails on any clear card data. SQLite's rows hold
// their records compressed (journal schema 5), where a byte scan cannot
// see, so every indexed entry is also read back decoded; it returns how
// many were.
func assertNoCardData(t *testing.T, db string, secrets ...string) (decoded int) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Dir(db), func(f string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasPrefix(f, db) {
			return err
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		n++
		for _, secret := range secrets {
			assert.False(t, bytes.Contains(b, []byte(secret)), "%s holds card data %s", filepath.Base(f), iso.MaskPAN([]byte(secret)))
		}
		return nil
	})
	require.NoError(t, err)
	require.NotZero(t, n)

	ro, err := journal.OpenReadOnly(db)
	require.NoError(t, err)
	defer ro.Close()
	es, err := ro.List(context.Background(), journal.Filter{Limit: math.MaxInt32})
	require.NoError(t, err)
	for _, e := range es {
		text := fmt.Sprintf("%+v", e)
		for _, secret := range secrets {
			assert.NotContains(t, text, secret, "entry %d holds card data %s", e.ID, iso.MaskPAN([]byte(secret)))
		}
	}
	return len(es)
}
