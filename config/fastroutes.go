package config

import (
	"bytes"
	"strings"
)

// The YAML decoder and viper take seconds and gigabytes for a table of
// 500,000 rules. A generated table is a plain block list, though:
//
//	routes:
//	  - bin: "411111-411119"
//	    issuer: bank-a
//	  - {bin: "4", issuer: bank-b}   # flow items too
//
// splitRoutes reads exactly that form and nothing else: any construct it
// does not know (anchors, tags, escapes, unquoted numbers, unknown or
// repeated keys, odd indentation, documents markers, tabs) makes it give up,
// and the whole file goes through the decoder as before, so every error
// message stays the decoder's and the validator's.

// useFastRoutes lets tests compare the fast path with the decoder.
var useFastRoutes = true

// splitRoutes returns data without the lines of its top-level routes list
// (blank lines keep the line numbers of parser errors) and the routes. ok
// is false when the list is absent or not in the form read here.
func splitRoutes(data []byte) (rest []byte, routes []Route, ok bool) {
	if !useFastRoutes {
		return nil, nil, false
	}
	start, end, ok := routesBlock(data)
	if !ok {
		return nil, nil, false
	}
	var p routeParser
	// One string for the block: substrings of it cost no allocation, and
	// the parser copies what it keeps, so the block is garbage afterwards.
	for line := range strings.Lines(string(data[start:end])) {
		if !p.line(line) {
			return nil, nil, false
		}
	}
	if !p.flush() {
		return nil, nil, false
	}
	blank := bytes.Repeat([]byte{'\n'}, bytes.Count(data[start:end], []byte{'\n'}))
	rest = make([]byte, 0, start+len(blank)+len(data)-end)
	rest = append(append(append(rest, data[:start]...), blank...), data[end:]...)
	return rest, p.routes(), true
}

// routesBlock finds the byte range from the "routes:" line to the end of
// its list: the next line at column 0 that is not a comment or a "- " item.
func routesBlock(data []byte) (start, end int, ok bool) {
	start = -1
	pos := 0
	for line := range bytes.Lines(data) {
		lineStart := pos
		pos += len(line)
		if len(line) == 0 || line[0] == ' ' || line[0] == '\n' || line[0] == '\r' || line[0] == '#' {
			continue
		}
		if bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) || bytes.HasPrefix(line, []byte("%")) {
			if start >= 0 {
				return 0, 0, false
			}
			continue
		}
		if start >= 0 && end < 0 && line[0] != '-' {
			end = lineStart
		}
		if isRoutesKey(line) {
			if start >= 0 || !isBareKeyLine(line, "routes:") {
				return 0, 0, false // a second routes key: let the parser report it
			}
			start, end = lineStart, -1
		}
	}
	if start < 0 {
		return 0, 0, false
	}
	if end < 0 {
		end = len(data)
	}
	return start, end, true
}

// isRoutesKey reports a column-0 line whose key, in any case or quoting,
// is routes (viper ignores the key's case).
func isRoutesKey(line []byte) bool {
	key, _, found := bytes.Cut(line, []byte(":"))
	return found && strings.EqualFold(strings.Trim(string(key), `"' `), "routes")
}

// isBareKeyLine reports line == key followed only by blanks or a comment.
func isBareKeyLine(line []byte, key string) bool {
	rest, found := bytes.CutPrefix(line, []byte(key))
	return found && restIsBlank(string(rest))
}

// restIsBlank reports s empty, blanks, or blanks then a comment.
func restIsBlank(s string) bool {
	s = strings.TrimRight(s, "\r\n")
	t := strings.TrimLeft(s, " ")
	return t == "" || (t[0] == '#' && len(t) < len(s))
}
