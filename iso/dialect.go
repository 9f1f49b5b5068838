package iso

import (
	"fmt"
	"sync"

	"github.com/moov-io/iso8583"
)

// Dialect is one endpoint's way of speaking ISO 8583: the message spec
// (encodings, bitmap, field layouts), the version (how MTIs and response
// codes are read) and the wire envelope.
type Dialect struct {
	Name     string
	SpecFile string // embedded spec under specs/
	Version  int    // 1987 or 1993
	Framing  Framing
	// JPOS names the jPOS packager and channel this dialect matches, for
	// the engineer connecting a jPOS-built peer.
	JPOS string
	// user is the spec of a dialect made by NewDialect from the config's
	// JSON: it has no embedded file.
	user *iso8583.MessageSpec
}

// Spec returns the dialect's spec, loaded once per spec file and shared:
// do not modify it.
func (d Dialect) Spec() (*iso8583.MessageSpec, error) {
	if d.user != nil {
		return d.user, nil
	}
	if d.SpecFile == Spec87File {
		return Spec87(), nil
	}
	return loadShared(d.SpecFile)
}

var sharedSpecs sync.Map // spec file name -> func() (*iso8583.MessageSpec, error)

func loadShared(file string) (*iso8583.MessageSpec, error) {
	f, _ := sharedSpecs.LoadOrStore(file, sync.OnceValues(func() (*iso8583.MessageSpec, error) {
		return LoadSpec(file)
	}))
	return f.(func() (*iso8583.MessageSpec, error))()
}

// builtinDialects are the dialects every switch knows, in the order
// `cardswitch dialects` lists them.
var builtinDialects = []Dialect{
	{Name: "iso87ascii", SpecFile: Spec87File, Version: 1987, Framing: Framing{Length: LengthBinary2},
		JPOS: "iso87ascii.xml on a 2-byte binary length channel (e.g. NACChannel without TPDU)"},
	{Name: "iso87ascii-ascii4", SpecFile: Spec87File, Version: 1987, Framing: Framing{Length: LengthASCII4},
		JPOS: "iso87ascii.xml on ASCIIChannel"},
	{Name: "iso87binary", SpecFile: "iso87binary.json", Version: 1987, Framing: Framing{Length: LengthBinary2},
		JPOS: "iso87binary.xml on a 2-byte binary length channel (e.g. NACChannel without TPDU)"},
	{Name: "iso87binary-tpdu", SpecFile: "iso87binary.json", Version: 1987, Framing: Framing{Length: LengthBinary2, Header: HeaderTPDU},
		JPOS: "iso87binary.xml on NACChannel with a TPDU header"},
	{Name: "iso93ascii", SpecFile: "iso93ascii.json", Version: 1993, Framing: Framing{Length: LengthASCII4},
		JPOS: "iso93ascii.xml on ASCIIChannel"},
	{Name: "iso93binary", SpecFile: "iso93binary.json", Version: 1993, Framing: Framing{Length: LengthBinary2},
		JPOS: "iso93binary.xml on a 2-byte binary length channel (e.g. NACChannel without TPDU)"},
	{Name: "iso87ebcdic", SpecFile: "iso87ebcdic.json", Version: 1987, Framing: Framing{Length: LengthBinary2},
		JPOS: "none stock: iso87binary.xml's layout with EBCDIC text"},
}

// BuiltinDialects returns the built-in dialects (a copy).
func BuiltinDialects() []Dialect { return append([]Dialect(nil), builtinDialects...) }

// LookupDialect returns the built-in dialect called name.
func LookupDialect(name string) (Dialect, error) {
	for _, d := range builtinDialects {
		if d.Name == name {
			return d, nil
		}
	}
	return Dialect{}, fmt.Errorf("iso: unknown dialect %q", name)
}
