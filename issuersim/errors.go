package issuersim

import "fmt"

// ConfigError reports the first problem config finds with a simulator's
// settings. Key is "" for the simulator's own keys, which Reason names
// (`latency "-1s": must not be negative`), or the rule, e.g. "rules[2]".
type ConfigError struct {
	Sim    string // simulator name, may be empty
	Key    string
	Reason string
}

func (e *ConfigError) Error() string {
	name := "issuersim"
	if e.Sim != "" {
		name += " " + e.Sim
	}
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", name, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", name, e.Key, e.Reason)
}

// FieldError reports a failure to read or build one ISO 8583 field. Its
// message names the field but leaves out the cause's text, because moov-io
// errors may quote the field's value (a PAN, track data); use errors.Unwrap
// to inspect the cause.
type FieldError struct {
	Field int    // -1: the message as a whole
	Op    string // "set", "pack"
	Err   error
}

func (e *FieldError) Error() string {
	if e.Field < 0 {
		return fmt.Sprintf("issuersim: cannot %s message", e.Op)
	}
	return fmt.Sprintf("issuersim: cannot %s field %d", e.Op, e.Field)
}

func (e *FieldError) Unwrap() error { return e.Err }
