package config

import (
	"fmt"
	"strings"
)

// String renders the diff for humans, one line per item, e.g.
//
//   - routes[3] bin "4111" -> bank-b
//   - routes[2] bin "5" -> bank-a
//     ~ routes[0] bin "4" bank-a -> bank-b
//     moves: 411111-411199: bank-a -> bank-b
//   - issuer bank-c
//     restart needed: listen.address
//
// It is "" when the diff is empty.
func (d ConfigDiff) String() string {
	var b strings.Builder
	for _, c := range d.Added {
		fmt.Fprintf(&b, "+ routes[%d] bin %q -> %s\n", c.Index, c.BIN, c.Issuer)
	}
	for _, c := range d.Removed {
		fmt.Fprintf(&b, "- routes[%d] bin %q -> %s\n", c.Index, c.BIN, c.Issuer)
	}
	for _, c := range d.Changed {
		fmt.Fprintf(&b, "~ routes[%d] bin %q %s -> %s\n", c.Index, c.BIN, c.OldIssuer, c.Issuer)
	}
	for _, m := range d.Moves {
		fmt.Fprintf(&b, "moves: %s: %s -> %s\n", m.Span(), issuerOrNone(m.FromIssuer), issuerOrNone(m.ToIssuer))
	}
	lists := []struct {
		prefix string
		items  []string
	}{
		{"+ issuer ", d.IssuersAdded}, {"- issuer ", d.IssuersRemoved}, {"~ issuer ", d.IssuersChanged},
		{"restart needed: ", d.Restart}, {"~ ", d.Other},
	}
	for _, l := range lists {
		for _, item := range l.items {
			b.WriteString(l.prefix + item + "\n")
		}
	}
	return b.String()
}

func issuerOrNone(name string) string {
	if name == "" {
		return "(no route)"
	}
	return name
}
