package issuersim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cardswitch/cardswitch/config"
)

func TestDecide(t *testing.T) {
	cfg := &config.Simulator{
		DeclineAbove: 1000,
		Rules: []config.SimRule{
			{PANPrefix: "4000", PANSuffix: "0002", Code: "05"},
			{PANPrefix: "4000", Amount: 777, NoAnswer: true},
			{PANSuffix: "0009", Delay: time.Second},
			{PANPrefix: "5", Code: "96", Malformed: true},
		},
	}
	tests := []struct {
		name   string
		pan    string
		amount amount
		want   decision
	}{
		{"approve", "4111111111111111", amount{500, true}, decision{code: "00"}},
		{"at limit", "4111111111111111", amount{1000, true}, decision{code: "00"}},
		{"above limit", "4111111111111111", amount{1001, true}, decision{code: "51"}},
		{"invalid amount", "4111111111111111", amount{}, decision{code: "13"}},
		{"prefix and suffix", "4000000000000002", amount{1, true}, decision{code: "05"}},
		{"prefix without suffix", "4000000000000003", amount{1, true}, decision{code: "00"}},
		{"amount rule", "4000000000000003", amount{777, true}, decision{code: "00", noAnswer: true}},
		{"amount rule, invalid amount", "4000000000000003", amount{}, decision{code: "13"}},
		{"delay keeps normal code", "4111111111110009", amount{5000, true}, decision{code: "51", delay: time.Second}},
		{"malformed with code", "5100000000000000", amount{1, true}, decision{code: "96", malformed: true}},
		{"no pan", "", amount{1, true}, decision{code: "00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, decide(cfg, tt.pan, tt.amount))
		})
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want amount
	}{
		{"", amount{0, true}},
		{"000000001000", amount{1000, true}},
		{"12", amount{12, true}},
		{"1x", amount{}},
		{"-1", amount{}},
		{"99999999999999999999", amount{}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, parseAmount(tt.in), "%q", tt.in)
	}
}

func TestApprovalCodes(t *testing.T) {
	tests := []struct {
		prefix string
		start  uint64
		want   []string
	}{
		{"", 0, []string{"000001", "000002"}},
		{"AB", 0, []string{"AB0001", "AB0002"}},
		{"AB", 9998, []string{"AB9999", "AB0000"}}, // wraps within 6 characters
		{"ABCDEF", 0, []string{"ABCDEF", "ABCDEF"}},
	}
	for _, tt := range tests {
		a := &approvalCodes{prefix: tt.prefix}
		a.n.Store(tt.start)
		for _, w := range tt.want {
			assert.Equal(t, w, a.next(), "prefix %q", tt.prefix)
		}
	}
}
