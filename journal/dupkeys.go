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
	err := j.eachSince(context.Background(), since, func(r *record) {
		t := &r.texts
		if Outcome(t[colOutcome]) != Duplicate {
			out = append(out, DupKey{Acquirer: string(t[colAcquirer]), STAN: string(t[colSTAN]),
				Terminal: string(t[colTerminal]), RRN: string(t[colRRN]),
				TransmissionTime: string(t[colTransmissionTime]), MTI: string(t[colMTI]), Time: fromNanos(r.time),
				ResponseCode: string(t[colCode]), Outcome: Outcome(t[colOutcome])})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("journal: recent keys: %w", err)
	}
	// Rows are in id order, which is answer order; callers want request time.
	slices.SortStableFunc(out, func(a, b DupKey) int { return a.Time.Compare(b.Time) })
	return out, nil
}
