package iso

// codeText names the response codes (field 39) an operator meets most,
// including every code the switch generates itself.
var codeText = map[string]string{
	"00": "approved",
	"01": "refer to card issuer",
	"05": "do not honor",
	"12": "invalid transaction",
	"13": "invalid amount",
	"14": "invalid card number",
	"15": "no such issuer (no route for BIN)",
	"30": "format error",
	"41": "lost card",
	"43": "stolen card",
	"51": "insufficient funds",
	"54": "expired card",
	"55": "incorrect PIN",
	"57": "transaction not permitted to cardholder",
	"61": "exceeds withdrawal amount limit",
	"68": "response received too late",
	"91": "issuer or switch inoperative",
	"94": "duplicate transmission",
	"96": "system malfunction",
}

// CodeText describes a response code, "" when unknown.
func CodeText(code string) string { return codeText[code] }
