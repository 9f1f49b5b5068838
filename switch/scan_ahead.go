package switchd

import "github.com/cardswitch/cardswitch/iso"

// aheadScan is the next frame, scanned by scanAhead before the current one
// was handled: its bytes (the slice Next will return for it), the scan's
// error and the duplicate key it prefetched for; the view is
// views[cur^1].
type aheadScan struct {
	frame []byte // nil when nothing was scanned ahead
	err   error
	key   hashedKey
}

// hashedKey is a frame's duplicate key and the acquirer it was hashed
// for; the zero value is no key.
type hashedKey struct {
	key      uint64
	acquirer string
	ok       bool
}

// scanned returns frame's scan: the one scanAhead made, when frame is the
// frame it scanned, or a scan made now. Either way the view is the
// current one, and the next frame's is the other; c.key is the
// duplicate key scanAhead hashed for frame, if it did.
func (c *acqConn) scanned(frame []byte) (*iso.View, error) {
	a := c.ahead
	c.ahead = aheadScan{}
	if a.frame != nil && sameBytes(a.frame, frame) {
		c.cur ^= 1
		c.key = a.key
		return &c.views[c.cur], a.err
	}
	c.key = hashedKey{}
	v := &c.views[c.cur]
	return v, c.s.scanner.ScanLenient(frame, v)
}

// dupKey is the duplicate key of the frame being handled (scanned into
// v): the one scanAhead hashed, unless the acquirer was re-identified
// since (a reload), else hashed now.
func (c *acqConn) dupKey(v *iso.View) uint64 {
	if k := c.key; k.ok && k.acquirer == c.acquirer {
		return k.key
	}
	return c.s.dups.key(c.acquirer, v)
}

// scanAhead scans the next frame when it is already read ahead, and
// prefetches its duplicate-check slots, so that the check finds them in
// cache when that frame's turn comes (dup_prefetch.go). Under load most
// frames arrive in batches, so most frames are scanned this way; the scan
// is the one the frame needs anyway.
func (c *acqConn) scanAhead(fr *iso.FrameReader) {
	d := c.s.dups
	if d == nil || c.lst.tr != nil {
		// Nothing to prefetch, or the next frame is not canonical yet
		// (translation reuses one buffer): scanning ahead would gain nothing.
		return
	}
	next := fr.PeekNext()
	if len(next) == 0 {
		return
	}
	v := &c.views[c.cur^1]
	c.ahead = aheadScan{frame: next, err: c.s.scanner.ScanLenient(next, v)}
	if c.ahead.err == nil && v.MTI() != nil {
		c.ahead.key = hashedKey{key: d.key(c.acquirer, v), acquirer: c.acquirer, ok: true}
		d.prefetch(c.ahead.key.key)
	}
}

// sameBytes reports whether a and b are the same slice of the same array,
// not merely equal bytes. Both are non-empty.
func sameBytes(a, b []byte) bool { return len(a) == len(b) && &a[0] == &b[0] }
