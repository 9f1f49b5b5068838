package journal

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"
)

// Stats summarises entries since a time.
type Stats struct {
	Since        time.Time
	Total        int
	Approved     int
	ApprovalRate float64 // Approved / Total, 0 when Total is 0
	ByIssuer     []GroupStats
	ByCode       []GroupStats
	ByNode       []GroupStats // by the node that wrote the entry: PostgreSQL only (nil on SQLite)
	// StandIn counts the switch's stand-in decisions (StandInApproved of
	// them approvals), LateAfterStandIn the issuer answers that came
	// after one, LateDisagreed those that disagreed with the decision.
	StandIn, StandInApproved, LateAfterStandIn, LateDisagreed int
}

// GroupStats is one issuer's or one response code's share. Percentiles are
// nearest-rank over the group's latencies.
type GroupStats struct {
	Key                string // issuer name ("" = not routed) or response code
	Count, Approved    int
	P50, P90, P99, Max time.Duration
}

// Stats counts entries at or after since (zero: all), grouped by issuer and
// by response code, each sorted by key.
func (j *Journal) Stats(ctx context.Context, since time.Time) (Stats, error) {
	st := Stats{Since: since}
	byIssuer, byCode := map[string]*group{}, map[string]*group{}
	err := j.eachSince(ctx, since, func(r *record) {
		ok := string(r.texts[colOutcome]) == string(Approved)
		d := time.Duration(r.latencyUS) * time.Microsecond
		st.Total++
		if ok {
			st.Approved++
		}
		st.countStandIn(r)
		add(byIssuer, r.texts[colIssuer], d, ok)
		add(byCode, r.texts[colCode], d, ok)
	})
	if err != nil {
		return st, fmt.Errorf("journal: stats: %w", err)
	}
	if st.Total > 0 {
		st.ApprovalRate = float64(st.Approved) / float64(st.Total)
	}
	st.ByIssuer, st.ByCode = summarise(byIssuer), summarise(byCode)
	return st, nil
}

// countStandIn counts r if it is a stand-in decision, or an issuer's
// late answer to one (its reason starts "stand-in <code> agreed" or
// "... disagreed").
func (st *Stats) countStandIn(r *record) {
	switch Outcome(r.texts[colOutcome]) {
	case StandIn:
		st.StandIn++
		if string(r.texts[colCode]) == "00" {
			st.StandInApproved++
		}
	case Late:
		reason := r.texts[colReason]
		if !bytes.HasPrefix(reason, []byte("stand-in ")) {
			return
		}
		st.LateAfterStandIn++
		if bytes.Contains(reason, []byte(" disagreed:")) {
			st.LateDisagreed++
		}
	}
}

type group struct {
	approved int
	lat      []time.Duration
}

func add(m map[string]*group, key []byte, d time.Duration, approved bool) {
	g := m[string(key)]
	if g == nil {
		g = &group{}
		m[string(key)] = g
	}
	g.lat = append(g.lat, d)
	if approved {
		g.approved++
	}
}

func summarise(m map[string]*group) []GroupStats {
	out := make([]GroupStats, 0, len(m))
	for k, g := range m {
		slices.Sort(g.lat)
		out = append(out, GroupStats{
			Key: k, Count: len(g.lat), Approved: g.approved,
			P50: rank(g.lat, 50), P90: rank(g.lat, 90), P99: rank(g.lat, 99), Max: g.lat[len(g.lat)-1],
		})
	}
	slices.SortFunc(out, func(a, b GroupStats) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	return out
}

// rank is the nearest-rank percentile p of sorted s (len > 0).
func rank(s []time.Duration, p int) time.Duration {
	i := (p*len(s) + 99) / 100 // ceil(p/100 * n)
	if i < 1 {
		i = 1
	}
	return s[i-1]
}
