package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseSweep(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		err  string
	}{
		{in: "", want: nil},
		{in: "16", want: []int{16}},
		{in: "4, 16,64", want: []int{4, 16, 64}},
		{in: "0", err: `--sweep "0": "0" is not a connection count`},
		{in: "16,", err: `--sweep "16,": "" is not a connection count`},
		{in: "8,x", err: `--sweep "8,x": "x" is not a connection count`},
		{in: "-4", err: `"-4" is not a connection count`},
	} {
		got, err := parseSweep(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseSweep(%q) error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseSweep(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
