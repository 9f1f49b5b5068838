// Package trace reads and writes ISO 8583 message traces for load replay.
//
// A trace is a list of requests, each packed for the wire with
// iso.Spec87() (no length header), an optional offset from the trace
// start and optional acceptable response codes (field 39). Load and Parse
// read three formats, detected by content: JSON Lines, jPOS XML logs and
// pcap/pcapng captures of ISO 8583 over TCP with a 2-byte length header.
// Generate makes synthetic traces; Writer writes JSON Lines.
//
// Trace files hold card numbers by nature (test PANs). This package never
// prints a field value in an error: PANs appear masked with iso.MaskPAN.
package trace
