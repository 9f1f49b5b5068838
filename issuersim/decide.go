package issuersim

import (
	"strings"
	"time"

	"github.com/cardswitch/cardswitch/config"
)

// Response codes the simulator answers with on its own.
const (
	codeApproved          = "00"
	codeInvalidAmount     = "13"
	codeInsufficientFunds = "51"
)

// decision is what to do with one 0100/0200.
type decision struct {
	code      string
	delay     time.Duration // the rule's Delay; Latency is added by the caller
	noAnswer  bool
	malformed bool
}

// amount is field 4 read as an integer; ok is false when the field is
// present but not a non-negative decimal number.
type amount struct {
	value int64
	ok    bool
}

// decide applies the rules in order, then DeclineAbove, then approves.
// A rule whose Code is empty leaves the code to the later steps but still
// contributes its Delay, NoAnswer and Malformed.
func decide(cfg *config.Simulator, pan string, amt amount) decision {
	var d decision
	if r := matchRule(cfg.Rules, pan, amt); r != nil {
		d = decision{code: r.Code, delay: r.Delay, noAnswer: r.NoAnswer, malformed: r.Malformed}
		if d.code != "" {
			return d
		}
	}
	switch {
	case !amt.ok:
		d.code = codeInvalidAmount
	case cfg.DeclineAbove > 0 && amt.value > cfg.DeclineAbove:
		d.code = codeInsufficientFunds
	default:
		d.code = codeApproved
	}
	return d
}

func matchRule(rules []config.SimRule, pan string, amt amount) *config.SimRule {
	for i := range rules {
		r := &rules[i]
		if !strings.HasPrefix(pan, r.PANPrefix) || !strings.HasSuffix(pan, r.PANSuffix) {
			continue
		}
		if r.Amount != 0 && (!amt.ok || amt.value != r.Amount) {
			continue
		}
		return r
	}
	return nil
}

// parseAmount reads field 4. An absent field is a zero amount (balance
// inquiries carry none).
func parseAmount(s string) amount {
	if s == "" {
		return amount{ok: true}
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' || v > (1<<63-1-9)/10 {
			return amount{}
		}
		v = v*10 + int64(c-'0')
	}
	return amount{value: v, ok: true}
}
