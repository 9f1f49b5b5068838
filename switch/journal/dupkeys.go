package journal

import (
	"context"
	"fmt"
	"time"
)

// DupKey is what duplicate detection compares, with the answer given.
type DupKey struct {
	Acquirer, STAN, Terminal, RRN, TransmissionTime string
	MTI                                             string // lets the switch keep 0100 and 0400 of one STAN apart
	Time                                            time.Time
	ResponseCode                                    string
	Outcome                                         Outcome
}

// RecentKeys returns the keys of entries at or after since, oldest first,
// excluding entries that were themselves answered as duplicates.
func (j *Journal) RecentKeys(since time.Time) ([]DupKey, error) {
	rows, err := j.rdb.QueryContext(context.Background(), `SELECT acquirer, stan, terminal, rrn,
		transmission_time, mti, time, response_code, outcome FROM entries
		WHERE time >= ? AND outcome <> ? ORDER BY time, id`, sinceNanos(since), string(Duplicate))
	if err != nil {
		return nil, fmt.Errorf("journal: recent keys: %w", err)
	}
	defer rows.Close()
	var out []DupKey
	for rows.Next() {
		var k DupKey
		var t int64
		var outcome string
		if err := rows.Scan(&k.Acquirer, &k.STAN, &k.Terminal, &k.RRN, &k.TransmissionTime, &k.MTI, &t, &k.ResponseCode, &outcome); err != nil {
			return nil, fmt.Errorf("journal: recent keys: %w", err)
		}
		k.Time, k.Outcome = fromNanos(t), Outcome(outcome)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: recent keys: %w", err)
	}
	return out, nil
}
