package journal

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// modernc.org/sqlite re-parses a statement on every Exec, prepared or not,
// and parsing dominated the per-entry cost. So entries go in as multi-row
// INSERTs: one parse per rowsPerInsert entries. IDs are assigned by the
// writer (max(id)+1 read in the same transaction), so no LastInsertId.

// rowsPerInsert * entryParams stays far below SQLite's 32766 parameters.
const rowsPerInsert = 16

const entryParams = 19

const maxIDSQL = `SELECT COALESCE(MAX(id), 0) FROM entries`

// inserter accumulates rows for one multi-row INSERT; owned by the writer
// goroutine, its buffers are reused across batches.
type inserter struct {
	args []any
	box  boxes
	sql  [rowsPerInsert + 1]string // by row count, built on first use
}

// add appends e's columns and returns the rows pending.
func (in *inserter) add(e *Entry) int {
	b := &in.box
	in.args = append(in.args, b.int(e.ID), b.int(e.Time.UnixNano()), b.str(e.Acquirer), b.int(int64(e.Conn)),
		b.str(e.Remote), b.str(e.Issuer), b.str(e.MTI), b.str(e.ProcessingCode), b.str(e.Amount),
		b.str(e.Currency), b.str(e.STAN), b.str(e.RRN), b.str(e.Terminal), b.str(e.TransmissionTime),
		b.str(e.PAN), b.str(e.ResponseCode), b.str(string(e.Outcome)), b.str(e.Reason),
		b.int(e.Latency.Microseconds()))
	return len(in.args) / entryParams
}

// exec inserts the pending rows, if any, and resets the buffer.
func (in *inserter) exec(ctx context.Context, tx *sql.Tx) error {
	n := len(in.args) / entryParams
	if n == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, in.statement(n), in.args...)
	clear(in.args) // no interface may outlive its slot's reuse
	in.args = in.args[:0]
	in.box.reset()
	if err != nil {
		return fmt.Errorf("journal: insert: %w", err)
	}
	return nil
}

func (in *inserter) statement(rows int) string {
	if in.sql[rows] == "" {
		var b strings.Builder
		b.WriteString(`INSERT OR FAIL INTO entries (id, time, acquirer, conn, remote, issuer, mti, processing_code,
	amount, currency, stan, rrn, terminal, transmission_time, pan, response_code, outcome, reason, latency_us) VALUES `)
		row := "(" + strings.TrimSuffix(strings.Repeat("?,", entryParams), ",") + ")"
		for i := range rows {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(row)
		}
		in.sql[rows] = b.String()
	}
	return in.sql[rows]
}
