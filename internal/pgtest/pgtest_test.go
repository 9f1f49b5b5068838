package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestDSNIsolatesSchema: a table made through one test DSN is invisible
// through another.
func TestDSNIsolatesSchema(t *testing.T) {
	a, b := DSN(t), DSN(t)
	ctx := context.Background()
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	if _, err := ca.Exec(ctx, "CREATE TABLE only_a (x int)"); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	if _, err := cb.Exec(ctx, "SELECT * FROM only_a"); err == nil {
		t.Fatal("a table of one test schema is visible from another")
	}
}
