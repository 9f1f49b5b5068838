package trace

import "math/rand/v2"

// LuhnValid reports whether pan is 2 or more digits with a valid Luhn
// check digit (ISO/IEC 7812-1).
func LuhnValid(pan string) bool {
	if len(pan) < 2 || !isDigits(pan) {
		return false
	}
	return luhnSum(pan[:len(pan)-1])%10 == int(10-(pan[len(pan)-1]-'0'))%10
}

// LuhnComplete returns a card number of length digits: prefix (cut to
// length-1 digits if longer), random digits from rnd, and the Luhn check
// digit. A nil rnd uses the global source. It returns "" when prefix is
// not all digits or length is outside 2..19.
func LuhnComplete(prefix string, length int, rnd *rand.Rand) string {
	if length < 2 || length > 19 || !isDigits(prefix) {
		return ""
	}
	body := make([]byte, length-1, length)
	n := copy(body, prefix)
	for i := n; i < len(body); i++ {
		body[i] = '0' + byte(randN(rnd, 10))
	}
	check := (10 - luhnSum(string(body))%10) % 10
	return string(append(body, '0'+byte(check)))
}

// luhnSum is the Luhn sum of payload, the digits before the check digit:
// every second digit from the right, starting with the last, is doubled.
func luhnSum(payload string) int {
	sum := 0
	double := true
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum
}

func randN(rnd *rand.Rand, n int) int {
	if rnd == nil {
		return rand.IntN(n)
	}
	return rnd.IntN(n)
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
