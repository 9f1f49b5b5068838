package config

import "strings"

// routeParser reads the lines of a routes block (see splitRoutes). Each
// method returns false for anything outside the form it knows.
type routeParser struct {
	header     bool // the "routes:" line was seen
	itemIndent int  // column of "- ", -1 before the first item
	open       bool // a block item is open for continuation lines
	cur        fastRoute
	items      []fastRoute
	arena      []byte            // all bin texts, so that they share one string
	issuers    map[string]string // interned issuer names
}

type fastRoute struct {
	binOff, binLen int32
	issuer         string
	hasBIN, hasIss bool
}

func (p *routeParser) line(s string) bool {
	s = strings.TrimRight(s, "\r\n")
	if !p.header {
		p.header, p.itemIndent, p.issuers = true, -1, make(map[string]string)
		return true // the "routes:" line, checked by routesBlock
	}
	if strings.IndexByte(s, '\t') >= 0 {
		return false
	}
	body := strings.TrimLeft(s, " ")
	indent := len(s) - len(body)
	switch {
	case body == "" || body[0] == '#':
		return true
	case strings.HasPrefix(body, "- "):
		if (p.itemIndent >= 0 && indent != p.itemIndent) || !p.flush() {
			return false
		}
		p.itemIndent = indent
		body = body[2:]
		if body != "" && body[0] == '{' {
			return p.flow(body[1:])
		}
		p.open = true
	case p.open && indent == p.itemIndent+2:
	default:
		return false
	}
	rest, ok := p.pair(body, false)
	return ok && restIsBlank(rest)
}

// flush ends the current block item.
func (p *routeParser) flush() bool {
	if p.open {
		p.items = append(p.items, p.cur)
	}
	p.open, p.cur = false, fastRoute{}
	return true
}

// flow reads "bin: X, issuer: Y}" after the "{" of a flow item.
func (p *routeParser) flow(s string) bool {
	for {
		rest, ok := p.pair(strings.TrimLeft(s, " "), true)
		if !ok {
			return false
		}
		rest = strings.TrimLeft(rest, " ")
		switch {
		case strings.HasPrefix(rest, ","):
			s = rest[1:]
		case strings.HasPrefix(rest, "}"):
			p.items = append(p.items, p.cur)
			p.cur = fastRoute{}
			return restIsBlank(rest[1:])
		default:
			return false
		}
	}
}

// pair reads "bin: VALUE" or "issuer: VALUE" into the current item and
// returns what follows the value.
func (p *routeParser) pair(s string, inFlow bool) (string, bool) {
	key, rest, found := strings.Cut(s, ":")
	if !found || !strings.HasPrefix(rest, " ") {
		return "", false
	}
	value, rest, ok := scalar(strings.TrimLeft(rest, " "))
	if !ok {
		return "", false
	}
	switch {
	case key == "bin" && !p.cur.hasBIN:
		p.cur.hasBIN = true
		p.cur.binOff, p.cur.binLen = int32(len(p.arena)), int32(len(value))
		p.arena = append(p.arena, value...)
	case key == "issuer" && !p.cur.hasIss:
		p.cur.hasIss = true
		name, seen := p.issuers[value]
		if !seen {
			name = strings.Clone(value)
			p.issuers[name] = name
		}
		p.cur.issuer = name
	default:
		return "", false // unknown or repeated key: the decoder reports it
	}
	return rest, true
}

// scalar reads a quoted string without escapes, or a plain word that YAML
// can only read as a string (starts with a letter, no bool/null words).
func scalar(s string) (value, rest string, ok bool) {
	if s == "" {
		return "", "", false
	}
	if q := s[0]; q == '"' || q == '\'' {
		end := strings.IndexByte(s[1:], q)
		if end < 0 || strings.IndexByte(s[1:1+end], '\\') >= 0 {
			return "", "", false
		}
		return s[1 : 1+end], s[2+end:], true
	}
	n := 0
	for n < len(s) && isPlainChar(s[n]) {
		n++
	}
	word := s[:n]
	if n == 0 || !isLetter(word[0]) || yamlWords[strings.ToLower(word)] {
		return "", "", false
	}
	return word, s[n:], true
}

var yamlWords = map[string]bool{"true": true, "false": true, "yes": true, "no": true,
	"on": true, "off": true, "y": true, "n": true, "null": true}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isPlainChar(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '/'
}

// routes returns the items read, their bins sharing one string.
func (p *routeParser) routes() []Route {
	bins := string(p.arena)
	routes := make([]Route, len(p.items))
	for i, it := range p.items {
		routes[i] = Route{BIN: bins[it.binOff : it.binOff+it.binLen], Issuer: it.issuer}
	}
	return routes
}
