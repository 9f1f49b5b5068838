// Package record is a transparent recording proxy for ISO 8583 over TCP
// (2-byte length header). Acquirers connect to it instead of the host;
// each client gets its own upstream connection and frames are copied both
// ways unchanged. Every request that passes through is written as a JSON
// Lines trace line (package trace) with "t", seconds since the first
// request, and "expect", the field 39 of its response (matched on the
// same connection by response MTI and STAN).
//
// Card data: unless KeepPAN is set, field 2 (or the PAN of track 2 when
// there is no field 2) is replaced by a Luhn-valid card number with the
// same first 6 and last 4 digits and length, the same for the same card
// within a run, and track 2 (35) is dropped. Tracks 1 and 3 (45, 36), the
// PIN block (52) and ICC data (55) are always dropped. Logs never show a
// field value.
package record
