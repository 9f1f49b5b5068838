// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema in the database named by CARDSWITCH_TEST_POSTGRES, dropped when
// the test ends. Without that variable a test skips (and says so), except
// in CI (CI=true), where a missing database is a failure: .ci/run starts
// one, so its absence there means the tests did not run.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the variable holding the test database's DSN.
const Env = "CARDSWITCH_TEST_POSTGRES"

// BaseDSN returns the DSN of CARDSWITCH_TEST_POSTGRES, skipping t when it
// is unset outside CI and failing t when it is unset under CI=true.
func BaseDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(Env)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is unset under CI=true: .ci/run starts PostgreSQL and sets it", Env)
		}
		t.Skipf("needs PostgreSQL: set %s (e.g. postgres://cardswitch:cardswitch@127.0.0.1:5432/cardswitch"+
			"?sslmode=disable; bash .ci/postgres starts one and prints it)", Env)
	}
	return dsn
}

// DSN returns a DSN whose search_path is a schema made for t alone, so
// that tests running at once never see each other's tables; the schema is
// dropped when t ends.
func DSN(t testing.TB) string {
	t.Helper()
	base := BaseDSN(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	exec(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { exec(t, base, "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("%s: connect: %v", Env, err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %s: %v", Env, sql, err)
	}
}
