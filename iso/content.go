package iso

// Content checks: what a field's digits mean, beyond the spec's syntax
// (Scan only checks that a numeric field holds digits). A misaligned frame
// (a bitmap that omits a field whose bytes are present) still scans as
// valid, its fields shifted: checking what the mandatory fields mean
// refuses nearly all of them, before any of their bytes reach the journal.
// Every check is a pure function over the field's wire bytes and does not
// allocate.

// ValidProcessingCode reports whether b is a field 3 of a known form: six
// digits, a known transaction type in digits 1-2 (KnownTransactionType)
// and known account types in digits 3-4 and 5-6 (KnownAccountType).
func ValidProcessingCode(b []byte) bool {
	return len(b) == 6 && allDigits(b) && KnownTransactionType(b[0], b[1]) &&
		KnownAccountType(b[2], b[3]) && KnownAccountType(b[4], b[5])
}

// KnownTransactionType reports whether the digits d1 d2 are a transaction
// type of ISO 8583:1987 field 3. Accepted, to refuse no real traffic:
//
//	00-19 debits: 00 goods and services, 01 cash, 02 debit adjustment,
//	      03 cheque guarantee, 04 cheque verification, 09 goods and services
//	      with cash back; 10-19 (ISO-reserved, national and private use)
//	      carry network codes such as 10 account funding, 11 quasi-cash,
//	      17 cash advance, 19 fee collection
//	20-29 credits: 20 return/refund, 21 deposit, 22 credit adjustment,
//	      26 original credit, 28 payment transaction
//	30-39 inquiries: 30 available funds, 31 balance
//	40-49 transfers: 40 cardholder accounts transfer
//	50-59 payments: 50 payment
//	90-99 reserved for private use
//
// 60-89 are reserved for ISO use and unassigned in 1987: refused.
func KnownTransactionType(d1, d2 byte) bool {
	if d2 < '0' || d2 > '9' {
		return false
	}
	return (d1 >= '0' && d1 <= '5') || d1 == '9'
}

// KnownAccountType reports whether the digits d1 d2 are an account type of
// ISO 8583:1987 field 3: 00 unspecified, 10 savings, 20 checking (current),
// 30 credit, 40 universal, 50 investment, 60 stored value.
func KnownAccountType(d1, d2 byte) bool { return d1 >= '0' && d1 <= '6' && d2 == '0' }

// ValidAmount reports whether b is a field 4 (or any 12-digit amount):
// exactly twelve digits.
func ValidAmount(b []byte) bool { return len(b) == 12 && allDigits(b) }

// ValidTransmissionTime reports whether b is a field 7: MMDDhhmmss, a real
// day of its month (29 February included: the field has no year) and a
// real time of day.
func ValidTransmissionTime(b []byte) bool {
	return len(b) == 10 && allDigits(b) && validMMDD(b[:4]) && validHHMMSS(b[4:])
}

// ValidLocalTime reports whether b is a field 12: hhmmss.
func ValidLocalTime(b []byte) bool { return len(b) == 6 && allDigits(b) && validHHMMSS(b) }

// ValidLocalDate reports whether b is a field 13: MMDD.
func ValidLocalDate(b []byte) bool { return len(b) == 4 && allDigits(b) && validMMDD(b) }

// ValidCurrencyCode reports whether b is a field 49 of the numeric form
// (ISO 4217): three digits. The spec lets 49 carry any text; an alphabetic
// code ("USD") is refused because the switch's peers use the numeric one.
func ValidCurrencyCode(b []byte) bool { return len(b) == 3 && allDigits(b) }

// daysIn is the most days of each month (index 1-12), February with 29.
var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// validMMDD checks four digits as a month and a day of it.
func validMMDD(b []byte) bool {
	m, d := twoDigit(b[0], b[1]), twoDigit(b[2], b[3])
	return m >= 1 && m <= 12 && d >= 1 && d <= daysIn[m]
}

// validHHMMSS checks six digits as a time of day.
func validHHMMSS(b []byte) bool {
	return twoDigit(b[0], b[1]) < 24 && twoDigit(b[2], b[3]) < 60 && twoDigit(b[4], b[5]) < 60
}

func twoDigit(a, b byte) int { return int(a-'0')*10 + int(b-'0') }

// contentChecks are the fields CheckContent checks when present, in order.
var contentChecks = [...]struct {
	id    int
	valid func([]byte) bool
}{
	{3, ValidProcessingCode},
	{4, ValidAmount},
	{7, ValidTransmissionTime},
	{12, ValidLocalTime},
	{13, ValidLocalDate},
	{49, ValidCurrencyCode},
}

// CheckContent returns the first of fields 3, 4, 7, 12, 13 and 49 that is
// present in v with content its check refuses, 0 when there is none.
// Presence is the caller's rule (which fields a message class requires).
func CheckContent(v *View) int {
	for _, c := range contentChecks {
		if f := v.Field(c.id); f != nil && !c.valid(f) { // nil: absent
			return c.id
		}
	}
	return 0
}
