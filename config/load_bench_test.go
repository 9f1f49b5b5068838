package config

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cardswitch/cardswitch/internal/bintest"
	"github.com/cardswitch/cardswitch/routing"
)

// rules500k is bintest.Rules500k as config routes.
func rules500k() ([]Route, []string) {
	routes := make([]Route, 0, 500_000)
	bintest.Rules500k(func(bin, issuer string) { routes = append(routes, Route{BIN: bin, Issuer: issuer}) })
	return routes, bintest.Issuers
}

// write500kYAML writes a config with the rules500k routes, in the block
// style a generator of real BIN tables would produce, and returns its path.
func write500kYAML(tb testing.TB) string {
	tb.Helper()
	routes, issuers := rules500k()
	path := filepath.Join(tb.TempDir(), "500k.yaml")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "issuers:")
	for i, name := range issuers {
		fmt.Fprintf(w, "  - name: %s\n    endpoints: [127.0.0.1:%d]\n", name, 9101+i)
	}
	fmt.Fprintln(w, "routes:")
	for _, r := range routes {
		fmt.Fprintf(w, "  - bin: %q\n    issuer: %s\n", r.BIN, r.Issuer)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

func BenchmarkLoad500kRules(b *testing.B) {
	path := write500kYAML(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		cfg, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		if cfg.Table().Len() != 500_000 {
			b.Fatal(cfg.Table().Len())
		}
	}
}

// TestLoad500kRules checks that the generated table takes the fast path
// and loads the same rules the generator made.
func TestLoad500kRules(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and loads 500,000 rules")
	}
	path := write500kYAML(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, fast := splitRoutes(data); !fast {
		t.Fatal("500k table did not take the fast path")
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	routes, _ := rules500k()
	if len(cfg.Routes) != len(routes) {
		t.Fatalf("%d routes, want %d", len(cfg.Routes), len(routes))
	}
	for i := range routes {
		if cfg.Routes[i] != routes[i] {
			t.Fatalf("routes[%d] = %v, want %v", i, cfg.Routes[i], routes[i])
		}
	}
}

func BenchmarkDiff500kRules(b *testing.B) {
	routes, issuers := rules500k()
	old, problems := routing.NewTable(routes, issuers, "")
	if len(problems) > 0 {
		b.Fatal(problems[0])
	}
	// Every 100th rule moves to another issuer.
	moved := append([]Route(nil), routes...)
	for i := 0; i < len(moved); i += 100 {
		moved[i].Issuer = issuers[(i+1)%len(issuers)]
	}
	new, problems := routing.NewTable(moved, issuers, "")
	if len(problems) > 0 {
		b.Fatal(problems[0])
	}
	oldCfg := &Config{Routes: routes, table: old}
	newCfg := &Config{Routes: moved, table: new}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d := Diff(oldCfg, newCfg)
		if len(d.Changed) != 5000 || len(d.Moves) == 0 {
			b.Fatal(len(d.Changed), len(d.Moves))
		}
	}
}
