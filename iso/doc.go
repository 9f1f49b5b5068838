// Package iso is cardswitch's thin layer over github.com/moov-io/iso8583:
// it loads the embedded ISO 8583:1987 ASCII spec, frames messages on the
// wire (2-byte big-endian length header), scans frames without allocating
// on the switch's hot path, builds the switch's own responses and masks
// card numbers.
//
// Field lengths always come from moov's spec (prefixers and encoders);
// the Scanner only precomputes them. Nothing in this package prints card
// data: errors carry field ids and fixed reasons, never field values.
package iso
