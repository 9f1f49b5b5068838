package journal

import (
	"testing"
	"time"
)

// TestRecordDialects: an entry's dialect names survive its record, both
// ways a record is written (from an Entry, from Fields); an entry with
// none (iso87ascii on both sides, or written before dialects existed)
// keeps the record it had, and reads back as "".
func TestRecordDialects(t *testing.T) {
	base := Entry{ID: 7, Time: time.Unix(1700000000, 0), MTI: "0100", STAN: "000001", Outcome: Approved}
	withD := base
	withD.AcquirerDialect, withD.IssuerDialect = "iso87binary-tpdu", "iso93ascii"
	for name, rec := range map[string][]byte{
		"entry":  appendRecord(nil, &withD),
		"fields": mustEncoded(t, 7, &Fields{Time: base.Time, MTI: []byte("0100"), STAN: []byte("000001"), Outcome: Approved, AcquirerDialect: "iso87binary-tpdu", IssuerDialect: "iso93ascii"}),
	} {
		var r record
		if _, err := nextRecord(rec, &r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e := entryOf(&r)
		if e.AcquirerDialect != "iso87binary-tpdu" || e.IssuerDialect != "iso93ascii" {
			t.Errorf("%s: dialects %q, %q", name, e.AcquirerDialect, e.IssuerDialect)
		}
	}
	plain := appendRecord(nil, &base)
	old := appendRecord(nil, &withD)
	if len(old) <= len(plain) {
		t.Fatal("the dialects took no room")
	}
	var r record
	if _, err := nextRecord(plain, &r); err != nil {
		t.Fatal(err)
	}
	if e := entryOf(&r); e.AcquirerDialect != "" || e.IssuerDialect != "" {
		t.Errorf("an entry without dialects read back %q, %q", e.AcquirerDialect, e.IssuerDialect)
	}
}

func mustEncoded(t *testing.T, id int64, f *Fields) []byte {
	t.Helper()
	body, err := AppendBody(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	return appendEncoded(nil, id, body)
}
