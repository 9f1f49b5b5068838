package journal

import (
	"context"
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
