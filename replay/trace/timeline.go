package trace

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// timeline turns the per-message "t" of a JSONL trace into offsets. Either
// every message has a "t" or none has; all are numbers (seconds from the
// trace start) or all are RFC 3339 times (offsets from the first message).
type timeline struct {
	offsets []time.Duration
	absent  int // number of messages without "t"
	kind    stampKind
	first   time.Time
	line    int // first line whose "t" kind set the kind, for errors
}

type stampKind int

const (
	stampNone stampKind = iota
	stampSeconds
	stampTime
)

func (tl *timeline) add(raw json.RawMessage, line int) error {
	if raw == nil {
		tl.absent++
		tl.offsets = append(tl.offsets, NoTiming)
		return nil
	}
	at, kind, err := tl.offset(raw)
	if err != nil {
		return &Error{Field: keyTime, Err: err}
	}
	if tl.kind == stampNone {
		tl.kind, tl.line = kind, line
	} else if kind != tl.kind {
		return &Error{Field: keyTime, Err: fmt.Errorf("mixes seconds and RFC 3339 times (line %d has the other kind)", tl.line)}
	}
	tl.offsets = append(tl.offsets, at)
	return nil
}

// offset converts one "t" value.
func (tl *timeline) offset(raw json.RawMessage) (time.Duration, stampKind, error) {
	var secs float64
	if json.Unmarshal(raw, &secs) == nil {
		if secs < 0 || math.IsInf(secs, 0) || secs > math.MaxInt64/float64(time.Second) {
			return 0, 0, errors.New("seconds out of range")
		}
		return time.Duration(math.Round(secs * float64(time.Second))), stampSeconds, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return 0, 0, errors.New("want seconds (a number) or an RFC 3339 time")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, 0, errors.New("not an RFC 3339 time")
	}
	if tl.kind == stampNone {
		tl.first = t
	}
	d := t.Sub(tl.first)
	if d < 0 {
		return 0, 0, errors.New("earlier than the first message")
	}
	return d, stampTime, nil
}

// apply sets At on msgs once every line is read.
func (tl *timeline) apply(msgs []Message) error {
	if tl.absent > 0 && tl.absent < len(msgs) {
		for i, at := range tl.offsets {
			if at == NoTiming {
				return &Error{Line: msgs[i].Line, Field: keyTime, Err: errors.New("missing (other messages have one)")}
			}
		}
	}
	for i := range msgs {
		msgs[i].At = tl.offsets[i]
	}
	return nil
}

// sortedKeys orders field numbers numerically, other keys after them.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		ia, ea := strconv.Atoi(a)
		ib, eb := strconv.Atoi(b)
		switch {
		case ea == nil && eb == nil:
			return ia - ib
		case ea == nil:
			return -1
		case eb == nil:
			return 1
		}
		return strings.Compare(a, b)
	})
	return keys
}
