package journal

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fillVaried stores 10 entries: odd ones bank-a/00/approved, even ones
// bank-b/51/declined, entry 10 unrouted 15/switch-declined.
func fillVaried(t *testing.T, j *Journal) {
	t.Helper()
	for i := 1; i <= 10; i++ {
		e := sampleEntry(i)
		if i%2 == 0 {
			e.Issuer, e.ResponseCode, e.Outcome = "bank-b", "51", Declined
		}
		if i == 10 {
			e.Issuer, e.ResponseCode, e.Outcome = "", "15", SwitchDeclined
		}
		j.Append(e, nil)
	}
	require.NoError(t, j.Flush(context.Background()))
}

func TestListFilters(t *testing.T) {
	j, _ := openTemp(t, Options{})
	fillVaried(t, j)
	tests := []struct {
		name string
		f    Filter
		want []int64
	}{
		{"all newest first", Filter{}, []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"limit", Filter{Limit: 3}, []int64{10, 9, 8}},
		{"since", Filter{Since: t0.Add(8 * time.Second)}, []int64{10, 9, 8}},
		{"rrn", Filter{RRN: "000000000004"}, []int64{4}},
		{"stan", Filter{STAN: "000007"}, []int64{7}},
		{"issuer", Filter{Issuer: "bank-b"}, []int64{8, 6, 4, 2}},
		{"code", Filter{Code: "00", Limit: 2}, []int64{9, 7}},
		{"outcome", Filter{Outcome: SwitchDeclined}, []int64{10}},
		{"combined", Filter{Issuer: "bank-a", Since: t0.Add(5 * time.Second)}, []int64{9, 7, 5}},
		{"no match", Filter{RRN: "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := j.List(context.Background(), tt.f)
			require.NoError(t, err)
			var ids []int64
			for _, e := range es {
				ids = append(ids, e.ID)
			}
			assert.Equal(t, tt.want, ids)
		})
	}
}

func TestGetUnknown(t *testing.T) {
	j, _ := openTemp(t, Options{})
	appendAll(t, j, 2, nil)
	_, err := j.Get(context.Background(), 99)
	require.EqualError(t, err, "journal: entry 99 not found")
	var nf *NotFoundError
	require.ErrorAs(t, err, &nf)
}

func TestRecentKeys(t *testing.T) {
	j, _ := openTemp(t, Options{})
	for i := 1; i <= 5; i++ {
		e := sampleEntry(i)
		if i == 4 {
			e.Outcome, e.ResponseCode = Duplicate, "94"
		}
		j.Append(e, nil)
	}
	require.NoError(t, j.Flush(context.Background()))
	keys, err := j.RecentKeys(t0.Add(2 * time.Second))
	require.NoError(t, err)
	require.Len(t, keys, 3)
	assert.Equal(t, DupKey{Acquirer: "acq-1", STAN: "000002", Terminal: "TERM0001", RRN: "000000000002",
		TransmissionTime: "0301120000", MTI: "0100", Time: t0.Add(2 * time.Second), ResponseCode: "00", Outcome: Approved}, keys[0])
	assert.Equal(t, "000003", keys[1].STAN)
	assert.Equal(t, "000005", keys[2].STAN, "duplicates are not keys")

	all, err := j.RecentKeys(time.Time{})
	require.NoError(t, err)
	assert.Len(t, all, 4)
}

// TestLookupsAcrossIndexBuckets: RRN and STAN lookups find entries in every
// id bucket of their indexes (schema version 3), newest first.
func TestLookupsAcrossIndexBuckets(t *testing.T) {
	j, _ := openTemp(t, Options{})
	const n = 2<<14 + 100 // three buckets
	for i := 1; i <= n; i++ {
		e := sampleEntry(i)
		e.RRN, e.STAN = fmt.Sprintf("%012d", i%5), fmt.Sprintf("%06d", i%7) // repeats in every bucket
		j.Append(e, nil)
	}
	require.NoError(t, j.Flush(context.Background()))
	ctx := context.Background()
	ids := func(f Filter) []int64 {
		es, err := j.List(ctx, f)
		require.NoError(t, err)
		out := make([]int64, len(es))
		for i, e := range es {
			out[i] = e.ID
		}
		return out
	}
	want := func(keep func(i int) bool) []int64 {
		var out []int64
		for i := n; i >= 1; i-- { // newest first
			if keep(i) {
				out = append(out, int64(i))
			}
		}
		return out
	}
	assert.Equal(t, want(func(i int) bool { return i%5 == 3 }), ids(Filter{RRN: "000000000003", Limit: n}))
	assert.Equal(t, want(func(i int) bool { return i%7 == 6 && i%5 == 1 }),
		ids(Filter{STAN: "000006", RRN: "000000000001", Limit: n}))
	es, err := j.List(ctx, Filter{STAN: "000002", Limit: 3})
	require.NoError(t, err)
	assert.Len(t, es, 3, "the limit holds")
	assert.Empty(t, ids(Filter{RRN: "no such"}))
}

// TestLookupsUseTheBucketIndexes guards the query plans: a lookup by RRN or
// STAN must probe its index, never scan the table.
func TestLookupsUseTheBucketIndexes(t *testing.T) {
	j, _ := openTemp(t, Options{})
	appendAll(t, j, 10, nil)
	for _, tc := range []struct {
		f    Filter
		want string
	}{
		{Filter{RRN: "1"}, "USING INDEX entries_rrn (<expr>=? AND rrn=?)"},
		{Filter{RRN: "1", Since: time.Now(), Issuer: "x"}, "USING INDEX entries_rrn (<expr>=? AND rrn=?)"},
		{Filter{STAN: "1", Code: "00"}, "USING INDEX entries_stan (<expr>=? AND stan=?)"},
	} {
		where, args := tc.f.where()
		rows, err := j.rdb.Query("EXPLAIN QUERY PLAN "+tc.f.listSQL(where), append(args, 10)...)
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Err())
		assert.Contains(t, strings.Join(plan, "\n"), "SEARCH entries "+tc.want, "%+v", tc.f)
	}
}

func TestEmptyJournalLookup(t *testing.T) {
	j, _ := openTemp(t, Options{})
	es, err := j.List(context.Background(), Filter{RRN: "000000000001"})
	require.NoError(t, err)
	assert.Empty(t, es)
}
