package trace

import (
	"time"
)

// Message is one request of a trace, pre-packed for the wire (no length header).
type Message struct {
	Frame  []byte        // packed ISO 8583 1987 ASCII (iso.Spec87()) request, or with the spec given to ParseLogSpec
	At     time.Duration // offset from the trace start; NoTiming (-1) when the trace has no timing
	Expect []string      // acceptable field-39 codes; empty = any
	Line   int           // source position (line number / record index) for error messages
}

// NoTiming is Message.At for traces without timestamps.
const NoTiming time.Duration = -1

// Format names a trace file format.
type Format string

// Trace formats recognised by Load and Parse.
const (
	FormatJSONL   Format = "jsonl"
	FormatJPOSXML Format = "jpos-xml"
	FormatPCAP    Format = "pcap"
	FormatPCAPNG  Format = "pcapng"
)
