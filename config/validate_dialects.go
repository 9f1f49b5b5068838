package config

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/cardswitch/cardswitch/iso"
)

func dialectWhere(i int, name string) string {
	if name == "" {
		return fmt.Sprintf("dialects[%d]", i)
	}
	return fmt.Sprintf("dialects[%d] (%s)", i, name)
}

// dialects validates the user-defined dialects and loads their specs.
func (v *validator) dialects(raw []rawDialect) ([]Dialect, map[string]iso.Dialect) {
	out := make([]Dialect, len(raw))
	loaded := make(map[string]iso.Dialect, len(raw))
	seen := make(map[string]int)
	for i, r := range raw {
		where := dialectWhere(i, r.Name)
		d := Dialect{Name: r.Name, Spec: r.Spec, Length: r.Length, Header: r.Header}
		if d.Length == "" {
			d.Length = DefaultDialectLength
		}
		switch first, dup := seen[r.Name]; {
		case r.Name == "":
			v.add(where, "name is required")
		case dup:
			v.add(where, "duplicate dialect name, first used by dialects[%d]", first)
		case isBuiltinDialect(r.Name):
			v.add(where, "name %q is a built-in dialect's: a user dialect must not shadow it", r.Name)
		default:
			seen[r.Name] = i
		}
		d.Version = v.dialectVersion(where, r.Version)
		f, ok := v.framing(where, d.Length, d.Header)
		spec, specOK := v.dialectSpec(where, r.Spec)
		out[i] = d
		if !ok || !specOK || d.Version == 0 || r.Name == "" {
			continue
		}
		nd, err := iso.NewDialect(r.Name, spec, d.Version, f)
		if err != nil {
			v.add(where, "spec %q does not load: %v", r.Spec, err)
			continue
		}
		loaded[r.Name] = nd
	}
	return out, loaded
}

func (v *validator) dialectVersion(where string, raw any) int {
	switch fmt.Sprint(raw) {
	case "1987":
		return 1987
	case "1993":
		return 1993
	case "<nil>":
		v.add(where, "version is required (1987 or 1993)")
	default:
		v.add(where, "version %q: must be 1987 or 1993", fmt.Sprint(raw))
	}
	return 0
}

func (v *validator) framing(where, length, header string) (iso.Framing, bool) {
	var f iso.Framing
	var err error
	ok := true
	if f.Length, err = iso.ParseLengthFraming(length); err != nil {
		v.add(where, "length %q: must be one of binary2, binary2-inclusive, bcd2, ascii4, binary4, none", length)
		ok = false
	}
	if f.Header, f.Fixed, err = iso.ParseHeader(header); err != nil {
		v.add(where, "header %q: must be \"\", tpdu or hex: followed by the header's bytes in hex", header)
		ok = false
	}
	return f, ok
}

func (v *validator) dialectSpec(where, path string) ([]byte, bool) {
	if path == "" {
		v.add(where, "spec is required (a moov-io JSON spec file)")
		return nil, false
	}
	b, err := os.ReadFile(path) // #nosec G304 -- the operator's own config names it
	if err != nil {
		v.add(where, "spec %q: %v", path, err)
		return nil, false
	}
	return b, true
}

func isBuiltinDialect(name string) bool {
	_, err := iso.LookupDialect(name)
	return err == nil
}

// dialectName checks that name (at where; "" is the default) is a known
// dialect: a built-in or one of the config's.
func (v *validator) dialectName(where, name string, user map[string]iso.Dialect, declared []Dialect) {
	if name == "" || isBuiltinDialect(name) {
		return
	}
	if _, ok := user[name]; ok {
		return
	}
	for _, d := range declared {
		if d.Name == name {
			return // declared but broken: reported with the dialect
		}
	}
	v.add(where, "unknown dialect %q (known: %s)", name, strings.Join(knownDialects(declared), ", "))
}

func knownDialects(declared []Dialect) []string {
	var names []string
	for _, d := range iso.BuiltinDialects() {
		names = append(names, d.Name)
	}
	var user []string
	for _, d := range declared {
		if d.Name != "" && !isBuiltinDialect(d.Name) {
			user = append(user, d.Name)
		}
	}
	sort.Strings(user)
	return append(names, user...)
}

func listenerWhere(i int, name string) string {
	if name == "" {
		return fmt.Sprintf("listeners[%d]", i)
	}
	return fmt.Sprintf("listeners[%d] (%s)", i, name)
}

// listeners validates the extra acquirer listeners; main is listen.address.
func (v *validator) listeners(raw []rawListener, main string) []Listener {
	out := make([]Listener, len(raw))
	names := map[string]int{}
	addrs := map[string]string{main: "listen.address"}
	for i, r := range raw {
		where := listenerWhere(i, r.Name)
		switch first, dup := names[r.Name]; {
		case r.Name == "":
			v.add(where, "name is required")
		case r.Name == MainListener:
			v.add(where, "name %q is listen.address's", MainListener)
		case dup:
			v.add(where, "duplicate listener name, first used by listeners[%d]", first)
		default:
			names[r.Name] = i
		}
		if err := checkHostPort(r.Address, false); err != nil {
			v.add(where, "address %q: %v", r.Address, err)
		} else if other, dup := addrs[r.Address]; dup && !anyPort(r.Address) {
			v.add(where, "address %q: two listeners on one address (also %s)", r.Address, other)
		} else {
			addrs[r.Address] = where
		}
		tlsKey := fmt.Sprintf("listeners[%d].tls", i)
		out[i] = Listener{Name: r.Name, Address: r.Address, Dialect: r.Dialect,
			TLS: v.serverTLSAt(tlsKey, r.TLS, r.HasTLS)}
	}
	return out
}

// checkDialectNames checks every dialect name c uses.
func (v *validator) checkDialectNames(c *Config) {
	v.dialectName("listen.dialect", c.Listen.Dialect, c.dialects, c.Dialects)
	for i := range c.Listeners {
		l := &c.Listeners[i]
		v.dialectName(listenerWhere(i, l.Name), l.Dialect, c.dialects, c.Dialects)
		if l.Dialect == "" {
			l.Dialect = DefaultDialect
		}
	}
	for i, is := range c.Issuers {
		v.dialectName(issuerWhere(i, is.Name), is.Dialect, c.dialects, c.Dialects)
	}
}

// anyPort: port 0 binds a free port, so two such addresses never clash.
func anyPort(addr string) bool { return strings.HasSuffix(addr, ":0") }
