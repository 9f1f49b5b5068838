package issuersim

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
)

// TestNewRejectsBadConfig: New checks a hand-built simulator with the rules
// and messages of a config file's simulators section (config.Simulator.Problems).
func TestNewRejectsBadConfig(t *testing.T) {
	ok := config.Simulator{Name: "s1", Listen: "127.0.0.1:0"}
	with := func(f func(*config.Simulator)) config.Simulator {
		c := ok
		f(&c)
		return c
	}
	rule := func(r config.SimRule) config.Simulator {
		return with(func(c *config.Simulator) { c.Rules = []config.SimRule{{Code: "00"}, r} })
	}
	tests := []struct {
		name string
		cfg  config.Simulator
		want string
	}{
		{"no listen", with(func(c *config.Simulator) { c.Listen = "" }), `issuersim s1: listen "": must be host:port, is empty`},
		{"negative decline_above", with(func(c *config.Simulator) { c.DeclineAbove = -1 }), `issuersim s1: decline_above "-1": must not be negative`},
		{"negative latency", with(func(c *config.Simulator) { c.Latency = -time.Second }), `issuersim s1: latency "-1s": must not be negative`},
		{"long prefix", with(func(c *config.Simulator) { c.ApprovalCodePrefix = "ABCDEFG" }), `issuersim s1: approval_code_prefix "ABCDEFG": must be at most 6 letters or digits`},
		{"prefix punctuation", with(func(c *config.Simulator) { c.ApprovalCodePrefix = "A-" }), `issuersim s1: approval_code_prefix "A-": must be at most 6 letters or digits`},
		{"code 1 char", rule(config.SimRule{Code: "5"}), "issuersim s1: rules[1]: code \"5\": must be 2 letters or digits"},
		{"code 3 chars", rule(config.SimRule{Code: "051"}), "issuersim s1: rules[1]: code \"051\": must be 2 letters or digits"},
		{"pan_prefix letters", rule(config.SimRule{PANPrefix: "41a", Code: "05"}), "issuersim s1: rules[1]: pan_prefix: must be digits"},
		{"pan_suffix letters", rule(config.SimRule{PANSuffix: "x", Code: "05"}), "issuersim s1: rules[1]: pan_suffix: must be digits"},
		{"negative amount", rule(config.SimRule{Amount: -5, Code: "05"}), "issuersim s1: rules[1]: amount: must not be negative"},
		{"negative delay", rule(config.SimRule{Delay: -1}), "issuersim s1: rules[1]: delay: must not be negative"},
		{"no_answer and malformed", rule(config.SimRule{NoAnswer: true, Malformed: true}), "issuersim s1: rules[1]: no_answer and malformed exclude each other"},
		// The config file's rules, which New applies too.
		{"listen without port", with(func(c *config.Simulator) { c.Listen = "127.0.0.1" }), `issuersim s1: listen "127.0.0.1": must be host:port`},
		{"negative reversal_drop", with(func(c *config.Simulator) { c.ReversalDrop = -2 }), `issuersim s1: reversal_drop "-2": must not be negative`},
		{"unnamed", config.Simulator{}, `issuersim: listen "": must be host:port, is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg, nil)
			require.Nil(t, s)
			require.EqualError(t, err, tt.want)
			var ce *ConfigError
			assert.True(t, errors.As(err, &ce))
		})
	}
}

func TestNewBindsListen(t *testing.T) {
	s, err := New(config.Simulator{Listen: "127.0.0.1:0", ApprovalCodePrefix: "ABCDEF"}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	host, port, err := net.SplitHostPort(s.Addr())
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)
	assert.NotEqual(t, "0", port)

	// The port is taken now, so a second simulator cannot bind it.
	_, err = New(config.Simulator{Listen: s.Addr()}, nil)
	require.Error(t, err)
}

func TestNewCopiesRules(t *testing.T) {
	rules := []config.SimRule{{Code: "05"}}
	s, err := New(config.Simulator{Listen: "127.0.0.1:0", Rules: rules}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	rules[0].Code = "00"
	assert.Equal(t, "05", s.cfg.Rules[0].Code)
}
