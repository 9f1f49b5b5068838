package journal

import (
	"fmt"
	"strings"
)

// pgEntryCols are the entries table's columns, in the order the writer
// passes them (pgEntries.args) and the spool keeps them (pgEntries.row).
var pgEntryCols = []string{"id", "node", "written_ns", "time_ns", "conn", "latency_us", "acquirer", "remote",
	"issuer", "mti", "pcode", "amount", "currency", "stan", "rrn", "terminal", "tx_time", "pan", "code",
	"outcome", "reason", "acq_dialect", "iss_dialect"}

// pgEntryTexts is how many of pgEntryCols are TEXT: node, then acquirer
// to iss_dialect.
const pgEntryTexts = 18

// pgEntryInt marks the entries columns that are BIGINT (the others are
// TEXT), in pgEntryCols' order.
var pgEntryInt = func() []bool {
	isInt := make([]bool, len(pgEntryCols))
	for i, c := range pgEntryCols {
		switch c {
		case "id", "written_ns", "time_ns", "conn", "latency_us":
			isInt[i] = true
		}
	}
	return isInt
}()

// pgInsertEntriesSQL inserts a write's entries from one array per column:
// one statement whose text never changes (prepared once per connection),
// which unlike COPY can share the write's batch.
var pgInsertEntriesSQL = func() string {
	var sql strings.Builder
	fmt.Fprintf(&sql, "INSERT INTO entries (%s) SELECT * FROM unnest(", strings.Join(pgEntryCols, ", "))
	for i := range pgEntryCols {
		if i > 0 {
			sql.WriteString(", ")
		}
		typ := "text"
		if pgEntryInt[i] {
			typ = "bigint"
		}
		fmt.Fprintf(&sql, "$%d::%s[]", i+1, typ)
	}
	sql.WriteString(")")
	return sql.String()
}()

// pgEntryRow is one entry as it is staged; id and written_ns are given
// when it is written.
type pgEntryRow struct {
	time, conn, latency int64
	text                [pgEntryTexts]string // node, then acquirer to iss_dialect
}

// pgEntries are a write's entries by column, as pgInsertEntriesSQL takes
// them: no row of interfaces per entry, and the columns' arrays are kept
// from one write to the next (reset).
type pgEntries struct {
	ids, written, times, conns, latencies []int64
	text                                  [pgEntryTexts][]string
	argv                                  []any // args'
}

func (e *pgEntries) len() int { return len(e.times) }

func (e *pgEntries) add(r *pgEntryRow) {
	e.ids, e.written = append(e.ids, 0), append(e.written, 0)
	e.times, e.conns, e.latencies = append(e.times, r.time), append(e.conns, r.conn), append(e.latencies, r.latency)
	for c := range r.text {
		e.text[c] = append(e.text[c], r.text[c])
	}
}

// reset empties e, keeping its arrays (their strings dropped).
func (e *pgEntries) reset() {
	e.ids, e.written, e.times, e.conns, e.latencies = e.ids[:0], e.written[:0], e.times[:0], e.conns[:0],
		e.latencies[:0]
	for c := range e.text {
		clear(e.text[c])
		e.text[c] = e.text[c][:0]
	}
}

// args are pgInsertEntriesSQL's arguments, in pgEntryCols' order:
// pointers to e's arrays (a pointer in an interface costs no allocation),
// in a slice kept for the next write.
func (e *pgEntries) args() []any {
	e.argv = append(e.argv[:0], &e.ids, &e.text[0], &e.written, &e.times, &e.conns, &e.latencies)
	for i := range e.text[1:] {
		e.argv = append(e.argv, &e.text[1+i])
	}
	return e.argv
}

// row is entry i's columns, in pgEntryCols' order (the spool's row).
func (e *pgEntries) row(i int) []any {
	r := make([]any, 0, len(pgEntryCols))
	r = append(r, e.ids[i], e.text[0][i], e.written[i], e.times[i], e.conns[i], e.latencies[i])
	for _, t := range e.text[1:] {
		r = append(r, t[i])
	}
	return r
}

func rowOfEntry(node string, e *Entry) pgEntryRow {
	return pgEntryRow{time: e.Time.UnixNano(), conn: int64(e.Conn), latency: e.Latency.Microseconds(), // #nosec G115 -- a conn id
		text: [pgEntryTexts]string{node, e.Acquirer, e.Remote, e.Issuer, e.MTI, e.ProcessingCode, e.Amount,
			e.Currency, e.STAN, e.RRN, e.Terminal, e.TransmissionTime, e.PAN, e.ResponseCode, string(e.Outcome),
			e.Reason, e.AcquirerDialect, e.IssuerDialect}}
}

func rowOfFields(node string, f *Fields) pgEntryRow {
	return pgEntryRow{time: f.Time.UnixNano(), conn: int64(f.Conn), latency: f.Latency.Microseconds(), // #nosec G115 -- a conn id
		text: [pgEntryTexts]string{node, f.Acquirer, f.Remote, f.Issuer, string(f.MTI), string(f.ProcessingCode),
			string(f.Amount), string(f.Currency), string(f.STAN), string(f.RRN), string(f.Terminal),
			string(f.TransmissionTime), string(f.PAN), f.ResponseCode, string(f.Outcome), f.Reason,
			f.AcquirerDialect, f.IssuerDialect}}
}
