package journal

import (
	"context"
	"fmt"
	"slices"
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
	var out []DupKey
	err := j.eachBatch(context.Background(), since, func(b []byte) error {
		return eachRecord(b, func(r *record) bool {
			if since.IsZero() || r.time >= since.UnixNano() {
				if e := entryOf(r); e.Outcome != Duplicate {
					out = append(out, DupKey{Acquirer: e.Acquirer, STAN: e.STAN, Terminal: e.Terminal, RRN: e.RRN,
						TransmissionTime: e.TransmissionTime, MTI: e.MTI, Time: e.Time,
						ResponseCode: e.ResponseCode, Outcome: e.Outcome})
				}
			}
			return true
		})
	})
	if err != nil {
		return nil, fmt.Errorf("journal: recent keys: %w", err)
	}
	// Rows are in id order, which is answer order; callers want request time.
	slices.SortStableFunc(out, func(a, b DupKey) int { return a.Time.Compare(b.Time) })
	return out, nil
}
