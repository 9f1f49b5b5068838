package iso

// View is the result of a Scan: offsets of each present field in the
// frame. Its arrays are inline so a reused View costs no allocation; Scan
// resets it. Field ids 0 (MTI) and 1 (bitmaps) are included. A View is
// not safe for concurrent use.
type View struct {
	frame   []byte
	scanner *Scanner
	bitmap  [2]uint64 // primary, secondary (bit 1 = MSB)
	present [3]uint64 // fields scanned successfully, bit id%64 of word id/64
	scanned int
	raw     [maxFieldID + 1]int32 // start of prefix
	data    [maxFieldID + 1]int32 // start of data
	end     [maxFieldID + 1]int32 // end of data
}

func (v *View) reset(s *Scanner, frame []byte) {
	v.frame, v.scanner = frame, s
	v.bitmap = [2]uint64{}
	v.present = [3]uint64{}
	v.scanned = -1
}

// mark records a successfully scanned field. Offsets fit int32: a frame
// is at most MaxFrameLen on the wire.
func (v *View) mark(id, raw, data, end int) {
	v.raw[id], v.data[id], v.end[id] = int32(raw), int32(data), int32(end) // #nosec G115
	// Unsigned, / and % need no sign fix-up: this runs for every field.
	u := uint(id)
	v.present[u/64] |= 1 << (u % 64)
	v.scanned = id
}

// Frame returns the scanned frame.
func (v *View) Frame() []byte { return v.frame }

// MTI returns the 4 MTI bytes, nil if they were unreadable.
func (v *View) MTI() []byte { return v.Field(0) }

// Has reports whether field id is present and was scanned successfully.
func (v *View) Has(id int) bool {
	return id >= 0 && id <= maxFieldID && v.present[id/64]&(1<<(id%64)) != 0
}

// Field returns the field's data as on the wire (no length prefix), nil if
// absent or not scanned. Its capacity is clipped: appending cannot
// overwrite the frame.
func (v *View) Field(id int) []byte {
	if !v.Has(id) {
		return nil
	}
	return v.frame[v.data[id]:v.end[id]:v.end[id]]
}

// Raw returns the field's length prefix and data as on the wire.
func (v *View) Raw(id int) []byte {
	if !v.Has(id) {
		return nil
	}
	return v.frame[v.raw[id]:v.end[id]:v.end[id]]
}

// Scanned returns the highest field id scanned successfully: 0 after the
// MTI, 1 after the bitmaps, -1 if not even the MTI was readable.
func (v *View) Scanned() int { return v.scanned }

// Set overwrites a present field's data in place in the frame. val must
// have the field's current length and pass the same content check as Scan
// (so the frame stays valid); the bitmap cannot be set.
func (v *View) Set(id int, val []byte) error {
	if !v.Has(id) {
		if id < 0 || id > maxFieldID {
			return &FieldError{Field: id, Reason: reasonText[reasonSetAbsent]}
		}
		return fieldErr(id, reasonSetAbsent)
	}
	cur := v.Field(id)
	switch {
	case id == 1:
		return fieldErr(id, reasonSetBitmap)
	case len(val) != len(cur):
		return fieldErr(id, reasonSetLength)
	case id == 0 && !allDigits(val):
		return fieldErr(id, reasonNonDigit)
	case id >= 2:
		if r, ok := v.scanner.fields[id].validate(val); !ok {
			return fieldErr(id, r)
		}
	}
	copy(cur, val)
	return nil
}
