package iso

import (
	"fmt"
	"sync"

	"github.com/moov-io/iso8583"
	moovspecs "github.com/moov-io/iso8583/specs"

	"github.com/cardswitch/cardswitch/specs"
)

// Spec87File is the embedded ISO 8583:1987 ASCII spec used by Spec87.
const Spec87File = "iso87ascii.json"

var spec87 = sync.OnceValue(func() *iso8583.MessageSpec {
	s, err := LoadSpec(Spec87File)
	if err != nil {
		// The spec is embedded at build time and covered by tests, so a
		// failure here is a build defect, not a runtime condition.
		panic(err)
	}
	return s
})

// Spec87 returns the embedded ISO 8583:1987 ASCII spec, loaded once.
// The spec is shared: do not modify it.
func Spec87() *iso8583.MessageSpec { return spec87() }

// LoadSpec loads a spec by file name from specs.FS.
func LoadSpec(name string) (*iso8583.MessageSpec, error) {
	raw, err := specs.FS.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("iso: reading spec %q: %w", name, err)
	}
	s, err := moovspecs.ImportJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("iso: importing spec %q: %w", name, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("iso: spec %q: %w", name, err)
	}
	return s, nil
}

// NewMessage returns an empty message of spec.
func NewMessage(spec *iso8583.MessageSpec) *iso8583.Message {
	return iso8583.NewMessage(spec)
}
