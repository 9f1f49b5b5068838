package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestScalarKeysAreListedEverywhere: every scalar key of the service
// sections can be overridden from the environment (envKeys) and is in the
// embedded default config that `cardswitch config default` prints with its
// comment. A key added to a raw struct alone fails here.
func TestScalarKeysAreListedEverywhere(t *testing.T) {
	sections := map[string]any{"listen": rawListen{}, "admin": rawAdmin{}, "journal": rawJournal{},
		"reversals": rawReversals{}, "cluster": rawCluster{}}
	var keys []string
	for section, raw := range sections {
		rt := reflect.TypeOf(raw)
		for i := range rt.NumField() {
			f := rt.Field(i)
			if tag := f.Tag.Get("mapstructure"); tag != "" && tag != "-" && f.Type.Kind() == reflect.String {
				keys = append(keys, section+"."+tag)
			}
		}
	}
	keys = append(keys, "default_issuer", "memory_limit")
	slices.Sort(keys)
	env := slices.Sorted(slices.Values(envKeys))
	if !slices.Equal(keys, env) {
		t.Errorf("scalar keys %v\nenvKeys     %v", keys, env)
	}
	def := string(DefaultYAML)
	for _, key := range keys {
		section, name, nested := strings.Cut(key, ".")
		if !nested {
			if !strings.Contains(def, "\n"+key+":") {
				t.Errorf("default.yaml lacks %s", key)
			}
			continue
		}
		start := strings.Index(def, "\n"+section+":\n")
		end := strings.Index(def[start+1:], "\n\n")
		if start < 0 || end < 0 || !strings.Contains(def[start:start+1+end], "\n  "+name+":") {
			t.Errorf("default.yaml's %s section lacks %s", section, name)
		}
	}
}

// TestSimulatorKeysInDefaultYAML: every simulators[] key is documented in
// the embedded default config's simulators section.
func TestSimulatorKeysInDefaultYAML(t *testing.T) {
	def := string(DefaultYAML)
	start := strings.Index(def, "\nsimulators:\n")
	if start < 0 {
		t.Fatal("default.yaml has no simulators section")
	}
	section := def[start:]
	rt := reflect.TypeOf(rawSimulator{})
	for i := range rt.NumField() {
		tag := rt.Field(i).Tag.Get("mapstructure")
		if tag == "" || tag == "-" {
			continue
		}
		if !strings.Contains(section, "\n    "+tag+":") && !strings.Contains(section, "\n  - "+tag+":") {
			t.Errorf("default.yaml's simulators section lacks %s", tag)
		}
	}
}
