package iso

// SwitchCode is a response code (field 39) the switch generates itself:
// one of SwitchCodes. It is a type of its own so that a code cannot be
// passed where a reason or an issuer name is expected, nor the reverse.
type SwitchCode string

// The codes the switch generates itself; SwitchCodes gives their meaning.
const (
	CodeApproved     SwitchCode = "00" // network management answered, an acquirer's advice taken over
	CodeNoRoute      SwitchCode = "15" // no route for the card's BIN (no such issuer)
	CodeNoOriginal   SwitchCode = "25" // an acquirer's reversal of a request the switch did not relay
	CodeFormatError  SwitchCode = "30" // not parseable, a mandatory field missing or its content invalid
	CodeNotForCard   SwitchCode = "57" // stand-in: the processing code or MCC is never stood in for
	CodeNotPermitted SwitchCode = "58" // field 32 is not the connection's acquirer's (impersonation)
	CodeOverAmount   SwitchCode = "61" // stand-in: over the amount or the card's total limit
	CodeRateExceeded SwitchCode = "65" // over the acquirer's rate; stand-in: over the card's count limit
	CodeLate         SwitchCode = "68" // in the 0420 sent after a timeout: response received too late
	CodeIssuerDown   SwitchCode = "91" // issuer unavailable or late, an in-flight cap reached, shutting down
	CodeDuplicate    SwitchCode = "94" // duplicate transmission, not sent to the issuer again
	CodeSystemError  SwitchCode = "96" // internal error, or the issuer's answer was unreadable
)

// SwitchCodes is the one table of the codes the switch generates itself,
// with the meaning printed beside them (txn, send, replay). The README's
// table "Response codes the switch generates itself" lists the same codes
// with the same meanings (a test keeps the two equal). It is an array so
// that counts per code can be arrays of its length.
var SwitchCodes = [...]struct {
	Code    SwitchCode
	Meaning string
}{
	{CodeApproved, "approved"},
	{CodeNoRoute, "no such issuer (no route for BIN)"},
	{CodeNoOriginal, "unable to locate original"},
	{CodeFormatError, "format error"},
	{CodeNotForCard, "transaction not permitted to cardholder"},
	{CodeNotPermitted, "transaction not permitted to terminal"},
	{CodeOverAmount, "exceeds withdrawal amount limit"},
	{CodeRateExceeded, "exceeds withdrawal frequency limit"},
	{CodeLate, "response received too late"},
	{CodeIssuerDown, "issuer or switch inoperative"},
	{CodeDuplicate, "duplicate transmission"},
	{CodeSystemError, "system malfunction"},
}

// SwitchCodeIndex is code's index in SwitchCodes, -1 when the switch does
// not generate it.
func SwitchCodeIndex(code string) int {
	for i, c := range SwitchCodes {
		if string(c.Code) == code {
			return i
		}
	}
	return -1
}

// issuerCodeText names the issuer codes (field 39) an operator meets most;
// the switch's own are in SwitchCodes.
var issuerCodeText = map[string]string{
	"01": "refer to card issuer",
	"05": "do not honor",
	"12": "invalid transaction",
	"13": "invalid amount",
	"14": "invalid card number",
	"41": "lost card",
	"43": "stolen card",
	"51": "insufficient funds",
	"54": "expired card",
	"55": "incorrect PIN",
}

// CodeText describes a response code, "" when unknown.
func CodeText(code string) string {
	if i := SwitchCodeIndex(code); i >= 0 {
		return SwitchCodes[i].Meaning
	}
	return issuerCodeText[code]
}
