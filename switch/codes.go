package switchd

import "github.com/cardswitch/cardswitch/iso"

// The response codes (field 39) the switch generates itself, for the
// package's callers: the table, with their meanings, is iso.SwitchCodes.
const (
	CodeApproved     = string(iso.CodeApproved)
	CodeNoRoute      = string(iso.CodeNoRoute)
	CodeFormatError  = string(iso.CodeFormatError)
	CodeNotPermitted = string(iso.CodeNotPermitted)
	CodeRateExceeded = string(iso.CodeRateExceeded)
	CodeLate         = string(iso.CodeLate)
	CodeIssuerDown   = string(iso.CodeIssuerDown)
	CodeOverloaded   = string(iso.CodeIssuerDown) // over an acquirer's, a connection's or the switch's in-flight cap
	CodeDuplicate    = string(iso.CodeDuplicate)
	CodeSystemError  = string(iso.CodeSystemError)
)
