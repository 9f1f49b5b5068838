package journal

import (
	"context"
	"fmt"
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

// TestLookupsAcrossBatches: RRN and STAN lookups find entries in every
// batch row, newest first, and read only the rows whose filter may hold
// the key.
func TestLookupsAcrossBatches(t *testing.T) {
	j, _ := openTemp(t, Options{})
	const n = 2<<14 + 100
	for i := 1; i <= n; i++ {
		e := sampleEntry(i)
		e.RRN, e.STAN = fmt.Sprintf("%012d", i%5), fmt.Sprintf("%06d", i%7) // repeats in every bucket
		j.Append(e, nil)
	}
	require.NoError(t, j.Flush(context.Background()))
	ctx := context.Background()
	var rows int
	require.NoError(t, j.rdb.QueryRow("SELECT COUNT(*) FROM batches").Scan(&rows))
	require.Greater(t, rows, 10, "entries span many batch rows")
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

// TestLookupsSkipBatchesByFilter: an RRN that only the newest entry
// carries reads a few of the many rows, not all of them.
func TestLookupsSkipBatchesByFilter(t *testing.T) {
	j, _ := openTemp(t, Options{})
	const n = 40000
	for i := 1; i <= n; i++ {
		j.Append(sampleEntry(i), nil)
	}
	require.NoError(t, j.Flush(context.Background()))
	all := candidates(t, j, Filter{})
	some := candidates(t, j, Filter{RRN: fmt.Sprintf("%012d", n)})
	require.Greater(t, len(all), 10)
	assert.Contains(t, some, all[0], "the newest row holds it")
	assert.Less(t, len(some), 3, "of %d rows", len(all))
}

// candidates lists the rows a lookup by f reads.
func candidates(t *testing.T, j *Journal, f Filter) []int64 {
	t.Helper()
	tx, err := j.rdb.Begin()
	require.NoError(t, err)
	defer tx.Rollback()
	var ids []int64
	require.NoError(t, eachCandidate(context.Background(), tx, f, func(id int64) (bool, error) {
		ids = append(ids, id)
		return true, nil
	}))
	return ids
}

// TestBloomFilter: no false negatives, and about 1% false positives.
func TestBloomFilter(t *testing.T) {
	const n = 2048
	var b bloom
	b.reset(2 * n)
	for i := range n {
		b.addHash(hashKey(keyRRN, []byte(fmt.Sprintf("%012d", i))))
		b.addHash(hashKey(keySTAN, []byte(fmt.Sprintf("%06d", i))))
	}
	for i := range n {
		require.True(t, b.has(keyRRN, fmt.Sprintf("%012d", i)))
		require.True(t, b.has(keySTAN, fmt.Sprintf("%06d", i)))
	}
	fp := 0
	for i := n; i < 11*n; i++ {
		if b.has(keyRRN, fmt.Sprintf("%012d", i)) {
			fp++
		}
	}
	assert.Less(t, fp, 10*n*3/100, "false positives")
	assert.False(t, bloom(nil).has(keyRRN, "1"), "an empty filter holds nothing")
	b.reset(1)
	b.addHash(hashKey(keyRRN, nil))
	assert.Equal(t, make(bloom, bloomMin), b, "empty values are not stored")
}

// TestBloomFilterSizes: filters are built in powers of two with at least
// bloomBits bits per key (add masks), and a filter of another size, as
// rows written before hold, still answers (has divides).
func TestBloomFilterSizes(t *testing.T) {
	for _, n := range []int{0, 1, 6, 7, 100, 4096, 4097} {
		var b bloom
		b.reset(n)
		assert.Equal(t, 0, len(b)&(len(b)-1), "n=%d: %d bytes is not a power of two", n, len(b))
		assert.GreaterOrEqual(t, len(b)*8, n*bloomBits, "n=%d", n)
		assert.GreaterOrEqual(t, len(b), bloomMin, "n=%d", n)
	}
	// A 5120-byte filter (2048 keys at 10 bits, unrounded) set as the
	// earlier build did, with a division.
	old := make(bloom, 5120)
	set := func(kind byte, v string) {
		h1, h2 := bloomHash(kind, []byte(v))
		m := uint32(len(old) * 8)
		for i := range uint32(bloomHashes) {
			bit := (h1 + i*h2) % m
			old[bit/8] |= 1 << (bit % 8)
		}
	}
	for i := range 2048 {
		set(keyRRN, fmt.Sprintf("%012d", i))
	}
	for i := range 2048 {
		require.True(t, old.has(keyRRN, fmt.Sprintf("%012d", i)))
	}
	assert.False(t, old.has(keySTAN, "000001"), "a key never added (by this hash, not a false positive)")
}

// TestBuildRefusesBadRecords: the indexer skips the checksum of records
// it encoded, but a batch that does not decode is still an error.
func TestBuildRefusesBadRecords(t *testing.T) {
	e := Entry{ID: 1, Time: time.Unix(1, 0), MTI: "0100", STAN: "000001", RRN: "000000000001"}
	rec := appendRecord(nil, &e)
	var m batchMeta
	require.NoError(t, m.build(rec, 1))
	assert.Equal(t, int64(1), m.count)
	assert.Error(t, m.build(rec[:len(rec)-1], 1), "truncated")
	bad := append([]byte(nil), rec...)
	bad[recHeader] = 0 // kind
	assert.Error(t, m.build(bad, 1), "unknown kind")
	assert.Error(t, m.build(rec[:3], 1), "shorter than a header")
}

func TestEmptyJournalLookup(t *testing.T) {
	j, _ := openTemp(t, Options{})
	es, err := j.List(context.Background(), Filter{RRN: "000000000001"})
	require.NoError(t, err)
	assert.Empty(t, es)
}

// TestRunsSkipWhatIsIndexed: replay stores only records no row holds, in
// runs of consecutive records of at most the row size.
func TestRunsSkipWhatIsIndexed(t *testing.T) {
	buf := sampleRecords(1, 10)
	held := map[int64]bool{3: true, 4: true, 8: true}
	var got [][]int64
	require.NoError(t, runs(buf, func(r *record) bool { return held[r.id] }, 2, func(run []byte, n int) error {
		var ids []int64
		require.NoError(t, eachRecord(run, func(r *record) bool { ids = append(ids, r.id); return true }))
		require.Len(t, ids, n)
		got = append(got, ids)
		return nil
	}))
	assert.Equal(t, [][]int64{{1, 2}, {5, 6}, {7}, {9, 10}}, got)
}

// TestStageKeysBuildTheSameRow: a row built from the keys the stage takes
// (StageFields) equals one built by decoding its records, as replay and
// migration build them.
func TestStageKeysBuildTheSameRow(t *testing.T) {
	var buf []byte
	var ks []recKeys
	for i := 1; i <= 300; i++ {
		e := sampleEntry(i)
		if i%7 == 0 {
			e.RRN = "" // absent keys are not stored
		}
		f := Fields{Time: e.Time, MTI: []byte(e.MTI), STAN: []byte(e.STAN), RRN: []byte(e.RRN)}
		body, err := AppendBody(nil, &f)
		require.NoError(t, err)
		buf = appendEncoded(buf, int64(i*2), body) // ids need not be consecutive
		ks = append(ks, recKeys{id: int64(i * 2), time: f.Time.UnixNano(), rrn: hashKey(keyRRN, f.RRN),
			stan: hashKey(keySTAN, f.STAN)})
	}
	var decoded, keyed batchMeta
	require.NoError(t, decoded.build(buf, len(ks)))
	keyed.buildKeys(ks)
	assert.Equal(t, decoded, keyed)
	assert.Equal(t, int64(2), keyed.first)
	assert.Equal(t, int64(600), keyed.last)
}
