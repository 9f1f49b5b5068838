package trace

import (
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"github.com/moov-io/iso8583"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/moov-io/iso8583/field"
)

// jPOS log elements, as written by org.jpos.util.SimpleLogListener and
// XMLPackager: <log realm at><send|receive><isomsg><field id value [type]/>.
type (
	xmlLog struct {
		At      string      `xml:"at,attr"`
		Send    []xmlIsoMsg `xml:"send>isomsg"`
		Receive []xmlIsoMsg `xml:"receive>isomsg"`
	}
	xmlIsoMsg struct {
		ID     string      `xml:"id,attr"`
		Fields []xmlField  `xml:"field"`
		Subs   []xmlIsoMsg `xml:"isomsg"`
	}
	xmlField struct {
		ID    string `xml:"id,attr"`
		Value string `xml:"value,attr"`
		Type  string `xml:"type,attr"`
	}
)

// parseJPOS reads a jPOS XML log: <log> elements at any depth (a <logger>
// root, or none at all: a log file is often a bare sequence of <log>
// elements, so the input is wrapped in a synthetic root). Only <send>
// requests become messages; a later <receive> of the response (request
// MTI + 10, same STAN) gives the request's expected field 39.
//
// Subfields (<isomsg id="N">) are flattened only for fields the spec
// defines as composite; the 1987 ASCII spec has none, so such fields are
// skipped with a warning on log (field id only).
func parseJPOS(r io.Reader, name string, log *slog.Logger, spec *iso8583.MessageSpec) ([]Message, error) {
	in := io.MultiReader(strings.NewReader("<jpos-trace>"), r, strings.NewReader("</jpos-trace>"))
	d := xml.NewDecoder(in)
	d.Strict = false // jPOS writes HTML-ish entities in <exception> text
	p := jposParser{name: name, logger: log, spec: spec, pending: map[matchKey]int{}}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			return nil, &Error{Name: name, Line: line, Err: fmt.Errorf("XML: %w", err)}
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "log" {
			continue
		}
		line, _ := d.InputPos()
		var l xmlLog
		if err := d.DecodeElement(&l, &se); err != nil {
			return nil, &Error{Name: name, Line: line, Err: fmt.Errorf("XML: %w", err)}
		}
		if err := p.log(&l, line); err != nil {
			return nil, asError(name, line, err)
		}
	}
	return p.finish()
}

// jposParser accumulates requests and matches receives to them.
type jposParser struct {
	spec    *iso8583.MessageSpec
	name    string
	logger  *slog.Logger
	msgs    []Message
	stamps  []stamp
	pending map[matchKey]int // awaited response -> index in msgs
}

func (p *jposParser) log(l *xmlLog, line int) error {
	for i := range l.Send {
		if err := p.send(&l.Send[i], l.At, line); err != nil {
			return err
		}
	}
	for i := range l.Receive {
		p.receive(&l.Receive[i])
	}
	return nil
}

// send packs a sent request; sent responses (a server's log) are skipped.
func (p *jposParser) send(im *xmlIsoMsg, at string, line int) error {
	mti := im.value("0")
	if !isRequest(mti) {
		return nil
	}
	b := newBuilder(p.spec)
	for _, f := range im.Fields {
		if err := setXMLField(b, f); err != nil {
			return err
		}
	}
	for _, sub := range im.Subs {
		p.logger.Warn("trace: jPOS subfields skipped: field is not composite in the spec",
			"trace", p.name, "line", line, "field", sub.ID)
	}
	frame, err := b.pack()
	if err != nil {
		return err
	}
	ts, err := parseJPOSTime(at)
	if err != nil {
		return &Error{Field: "at", Err: err}
	}
	p.pending[responseKey(mti, jposSTAN(im.value("11")))] = len(p.msgs)
	p.msgs = append(p.msgs, Message{Frame: frame, At: NoTiming, Line: line})
	p.stamps = append(p.stamps, ts)
	return nil
}

// receive records field 39 of a response as its request's expectation.
func (p *jposParser) receive(im *xmlIsoMsg) {
	k := matchKey{mti: im.value("0"), stan: jposSTAN(im.value("11"))}
	i, ok := p.pending[k]
	code := im.value("39")
	if !ok || code == "" {
		return
	}
	delete(p.pending, k)
	p.msgs[i].Expect = []string{code}
}

func (p *jposParser) finish() ([]Message, error) {
	if err := applyStamps(p.msgs, p.stamps); err != nil {
		return nil, asError(p.name, 0, err)
	}
	return p.msgs, nil
}

// value returns the value of field id, "" when absent.
func (im *xmlIsoMsg) value(id string) string {
	for _, f := range im.Fields {
		if f.ID == id {
			return strings.TrimSpace(f.Value)
		}
	}
	return ""
}

func setXMLField(b *builder, f xmlField) error {
	id, err := strconv.Atoi(f.ID)
	if err != nil {
		return &Error{Field: f.ID, Err: errors.New("unknown field (want a field number)")}
	}
	if id == 1 {
		return nil // the bitmap: packing computes it
	}
	if f.Type == "binary" {
		raw, err := hex.DecodeString(f.Value)
		if err != nil {
			return fieldErr(id, "type=\"binary\" value is not hex")
		}
		return b.setBytes(id, raw)
	}
	return b.setText(id, jposPad(b.spec, id, f.Value))
}

// jposSTAN is a STAN as packed (n 6, zeros on the left), so that a request
// logged as set ("17") matches its response logged as unpacked ("000017").
func jposSTAN(v string) string {
	if len(v) < 6 {
		return strings.Repeat("0", 6-len(v)) + v
	}
	return v
}

// jposPad pads a short value of a fixed-length field as jPOS pads it when
// it packs, since jPOS logs a field as the application set it ("TERM 01"
// for an 8-character field 41): IF_CHAR (a String field here) on the right
// with spaces, IFA_NUMERIC on the left with zeros. A field whose spec has
// its own padding is left to it, and a value too long stays too long, to
// be refused against its field.
func jposPad(ms *iso8583.MessageSpec, id int, v string) string {
	proto, ok := ms.Fields[id]
	if !ok {
		return v
	}
	spec := proto.Spec()
	if spec.Pad != nil || spec.Pref == nil || !strings.HasSuffix(spec.Pref.Inspect(), ".Fixed") || len(v) >= spec.Length {
		return v
	}
	switch proto.(type) {
	case *field.String:
		return v + strings.Repeat(" ", spec.Length-len(v))
	case *field.Numeric:
		return strings.Repeat("0", spec.Length-len(v)) + v
	}
	return v
}
