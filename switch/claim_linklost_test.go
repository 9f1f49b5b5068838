package switchd_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/internal/pgtest"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On PostgreSQL, a request whose issuer link is lost while the journal's
// write carrying its duplicate claim (held here by a lock on dupclaims)
// still holds it was never written to the issuer: its acquirer gets 91,
// no 0420 is stored (with the claim lost to another node, it would name
// that node's approved request), the issuer gets nothing, and its claim
// is released and its key forgotten: the acquirer's retry is relayed and
// approved, not a 94.
func TestClaimedRequestLinkLostBeforeSent(t *testing.T) {
	dsn := pgtest.DSN(t)
	h := startHoldIssuer(t)
	h.mu.Lock()
	h.approve = true
	h.mu.Unlock()
	dir := t.TempDir()
	key := filepath.Join(dir, "journal.key")
	require.NoError(t, os.WriteFile(key, []byte(strings.Repeat("5a", 32)+"\n"), 0o600))
	log, events := newEventLog()
	sw := opsRun(t, opsLoad(t, "journal: {path: \"\", postgres: '"+dsn+"', key_file: "+key+", spool: "+
		filepath.Join(dir, "sw-1.spool")+"}\ncluster: {node: sw-1}\nissuers:\n"+issuerYAML("bank", "5s", h.ln.Addr().String())+
		"routes:\n  - {bin: \"4\", issuer: bank}\n"), switchd.WithLogger(log))
	opsWaitUp(t, sw, "bank")
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close(ctx) })

	tx, err := db.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `LOCK TABLE dupclaims IN EXCLUSIVE MODE`)
	require.NoError(t, err)
	c := dialRaw(t, sw.addr)
	req := pack(t, auth("4000001234567899", 1000, 7))
	c.write(t, req)
	awaitClaimBlocked(t, tx)
	h.closeConns() // the link is lost while the journal's write holds the request
	events.await(t, "issuer link down", 1)
	require.NoError(t, tx.Rollback(ctx))

	assert.Equal(t, "91", str(t, c.read(t), 39), "not sent: 91")
	var reversals int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM reversals`).Scan(&reversals))
	assert.Zero(t, reversals, "no 0420 stored: the issuer never got the request")
	opsWaitUp(t, sw, "bank") // linked again
	c.write(t, req)
	assert.Equal(t, "00", str(t, c.read(t), 39), "the retry is relayed: claim released, key forgotten")
	h.mu.Lock()
	defer h.mu.Unlock()
	assert.Len(t, h.auths, 1, "the issuer got the retry only")
	assert.Zero(t, len(h.advices), "no 0420 sent") // its frames hold the PAN: counted, not printed
}

// awaitClaimBlocked returns once a write claiming a duplicate key waits
// for the lock tx holds on dupclaims.
func awaitClaimBlocked(t *testing.T, tx pgx.Tx) {
	t.Helper()
	for i := 0; ; i++ {
		require.Less(t, i, 1000, "no claim ever waited for the lock")
		var n int
		require.NoError(t, tx.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks l
			JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.relation = 'dupclaims'::regclass AND NOT l.granted AND a.query LIKE '%INSERT INTO dupclaims%'`).Scan(&n))
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
