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
	sql  [rowsPerInsert + 1]string // by row count, built on first use
}

// add appends e's columns and returns the rows pending.
func (in *inserter) add(e *Entry) int {
	in.args = append(in.args, e.ID, e.Time.UnixNano(), e.Acquirer, int64(e.Conn), e.Remote, e.Issuer,
		e.MTI, e.ProcessingCode, e.Amount, e.Currency, e.STAN, e.RRN, e.Terminal, e.TransmissionTime,
		e.PAN, e.ResponseCode, string(e.Outcome), e.Reason, e.Latency.Microseconds())
	return len(in.args) / entryParams
}

// exec inserts the pending rows, if any, and resets the buffer.
func (in *inserter) exec(ctx context.Context, tx *sql.Tx) error {
	n := len(in.args) / entryParams
	if n == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, in.statement(n), in.args...)
	clear(in.args) // drop references to entries for the GC
	in.args = in.args[:0]
	if err != nil {
		return fmt.Errorf("journal: insert: %w", err)
	}
	return nil
}

func (in *inserter) statement(rows int) string {
	if in.sql[rows] == "" {
		var b strings.Builder
		b.WriteString(`INSERT INTO entries (id, time, acquirer, conn, remote, issuer, mti, processing_code,
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
