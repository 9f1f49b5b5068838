package acquirers

import "github.com/cardswitch/cardswitch/iso"

// Response codes (field 39) the switch answers at once when Begin refuses a
// request (from the switch's code table, iso.SwitchCodes). They tell the
// acquirer that the refusal is about its traffic, not the card.
const (
	// CodeRateExceeded answers a request over the acquirer's Rate: ISO
	// 8583 "exceeds withdrawal frequency limit". It is a signal to slow
	// down; retrying at once will be refused again.
	CodeRateExceeded = string(iso.CodeRateExceeded)
	// CodeInFlightExceeded answers a request while the acquirer already
	// has MaxInFlight requests waiting: "issuer or switch inoperative",
	// the same code a late issuer gets, as the cause is the same (the
	// switch cannot take more now) and acquirers already retry or stand
	// in on 91.
	CodeInFlightExceeded = string(iso.CodeIssuerDown)
)
