package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cardswitch/cardswitch/replay"
)

func TestFailedOf(t *testing.T) {
	clean := &replay.Report{Answered: 10, Codes: map[string]int64{"00": 10}}
	if _, ok := failedOf("clean", clean); ok {
		t.Errorf("a phase without failures was listed")
	}
	shed := &replay.Report{Answered: 30, Timeouts: 2, Errors: 1, ValidationFailures: 20,
		Codes:    map[string]int64{"00": 10, "96": 3, "91": 17},
		Failures: []replay.Failure{{Reason: "response code 91, want 00"}}}
	f, ok := failedOf("fixed rate → switch → issuer", shed)
	if !ok {
		t.Fatalf("a phase with failures was not listed")
	}
	want := "fixed rate → switch → issuer: 2 timeouts, 1 errors, 17 answered 91, 3 answered 96 (first: response code 91, want 00)"
	if got := f.String(); got != want {
		t.Errorf("String() = %q\nwant        %q", got, want)
	}
	timedOut := &replay.Report{Timeouts: 4, Codes: map[string]int64{}}
	f, ok = failedOf("p", timedOut)
	if !ok || f.String() != "p: 4 timeouts, 0 errors" {
		t.Errorf("timeouts alone: %v %q", ok, f.String())
	}
	var out bytes.Buffer
	printFailed(&out, nil)
	if out.Len() != 0 {
		t.Errorf("a clean run printed %q", out.String())
	}
	printFailed(&out, []Failed{f})
	if got := out.String(); !strings.Contains(got, "\n  p: 4 timeouts, 0 errors\n") || !strings.Contains(got, "not a clean measurement") {
		t.Errorf("printed %q", got)
	}
}
