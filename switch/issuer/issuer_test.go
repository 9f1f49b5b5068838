package issuer

import "testing"

// An issuer's in-flight cap admits up to its limit, and its count carries
// over to the Issuer a reload builds in its place: requests admitted
// before the reload still count against the cap, and leaving through the
// old one frees a place in the new one.
func TestIssuerCapCarriesOverAReload(t *testing.T) {
	old := New("bank", nil, 2, nil)
	a, b, c := &Txn{}, &Txn{}, &Txn{}
	if !old.Admit(a) || !old.Admit(b) || old.Admit(c) {
		t.Fatal("want two admitted, the third refused")
	}
	next := New("bank", nil, 3, old)
	if !next.Admit(c) || next.Admit(&Txn{}) {
		t.Fatal("the new cap counts the requests admitted before the reload")
	}
	a.Leave()
	a.Leave() // a second call gives nothing back
	if got := next.Admitted(); got != 2 {
		t.Fatalf("admitted %d, want 2", got)
	}
	b.Leave()
	c.Leave()
	if got := next.Admitted(); got != 0 {
		t.Fatalf("admitted %d, want 0", got)
	}
}
