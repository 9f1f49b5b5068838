package trace

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// jPOS "at" layouts. jPOS 1.x wrote Date.toString() plus ".millis"
// ("Mon Nov 24 00:00:03 EST 2014.292"); jPOS 2+ writes ISO 8601 times,
// with or without an offset (and sometimes a "[Zone/Id]" suffix).
const jposOldLayout = "Mon Jan _2 15:04:05 MST 2006"

var jposISOLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
}

// zoneOffsets resolves the abbreviations Date.toString() prints, so that
// offsets stay right across a DST change. time.Parse alone gives unknown
// abbreviations a zero offset.
var zoneOffsets = map[string]int{ // minutes east of UTC
	"UTC": 0, "GMT": 0, "WET": 0, "WEST": 60, "BST": 60, "CET": 60, "CEST": 120, "EET": 120, "EEST": 180,
	"EST": -300, "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
	"ART": -180, "BRT": -180, "IST": 330, "JST": 540, "AEST": 600, "AEDT": 660,
}

// parseJPOSTime parses a jPOS "at" attribute; "" gives a stamp without time.
func parseJPOSTime(at string) (stamp, error) {
	at = strings.TrimSpace(at)
	if at == "" {
		return stamp{}, nil
	}
	if i := strings.IndexByte(at, '['); i > 0 {
		at = at[:i]
	}
	for _, layout := range jposISOLayouts {
		if t, err := time.Parse(layout, at); err == nil {
			return stamp{t: t, ok: true}, nil
		}
	}
	t, err := parseJPOSOld(at)
	if err != nil {
		return stamp{}, err
	}
	return stamp{t: t, ok: true}, nil
}

// parseJPOSOld parses "Mon Nov 24 00:00:03 EST 2014.292".
func parseJPOSOld(at string) (time.Time, error) {
	bad := errors.New(`unrecognized time (want "Mon Nov 24 00:00:03 EST 2014.292" or ISO 8601)`)
	base, frac, _ := strings.Cut(at, ".")
	t, err := time.Parse(jposOldLayout, base)
	if err != nil {
		return time.Time{}, bad
	}
	if frac != "" {
		ms, err := strconv.Atoi(frac)
		if err != nil || len(frac) > 3 {
			return time.Time{}, bad
		}
		t = t.Add(time.Duration(ms) * time.Millisecond)
	}
	abbr, _ := t.Zone()
	if mins, ok := zoneOffsets[abbr]; ok {
		y, mo, d := t.Date()
		h, mi, s := t.Clock()
		t = time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.FixedZone(abbr, mins*60))
	}
	return t, nil
}
