package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/cardswitch/cardswitch/replay"
)

// Failed is a phase that had failures, with what they were. Every phase
// run is checked, including fixed-rate pairs other than the median and the
// sweep's rows, whose failures the tables do not show: a run whose switch
// shed load or timed out once is not a clean measurement, whichever row
// it hit.
type Failed struct {
	Phase    string `json:"phase"`
	Timeouts int64  `json:"timeouts"`
	Errors   int64  `json:"errors"`
	// Codes counts the answers other than 00 by field 39: the issuer
	// approves everything, so these are the switch's own answers (91: an
	// in-flight cap reached or an issuer timeout; 96: a system error).
	Codes map[string]int64 `json:"codes,omitempty"`
	// First is the reason of the first validation failure (no card data).
	First string `json:"first,omitempty"`
}

// failedOf is the phase's failures, false if it had none.
func failedOf(name string, rep *replay.Report) (Failed, bool) {
	if rep.Timeouts+rep.Errors+rep.ValidationFailures == 0 {
		return Failed{}, false
	}
	f := Failed{Phase: name, Timeouts: rep.Timeouts, Errors: rep.Errors}
	for code, n := range rep.Codes {
		if code != "00" {
			if f.Codes == nil {
				f.Codes = map[string]int64{}
			}
			f.Codes[code] = n
		}
	}
	if len(rep.Failures) > 0 {
		f.First = rep.Failures[0].Reason
	}
	return f, true
}

func (f Failed) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d timeouts, %d errors", f.Phase, f.Timeouts, f.Errors)
	for _, code := range slices.Sorted(maps.Keys(f.Codes)) {
		fmt.Fprintf(&b, ", %d answered %s", f.Codes[code], code)
	}
	if f.First != "" {
		fmt.Fprintf(&b, " (first: %s)", f.First)
	}
	return b.String()
}

func printFailed(w io.Writer, failed []Failed) {
	if len(failed) == 0 {
		return
	}
	fmt.Fprintf(w, "\nphases with failures (timeouts, errors, or answers other than the issuer's 00):\n")
	for _, f := range failed {
		fmt.Fprintf(w, "  %s\n", f)
	}
	fmt.Fprintf(w, "throughput counts every answer, these included: a run with failures is not a clean measurement\n")
}
