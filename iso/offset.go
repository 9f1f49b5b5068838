package iso

// Offset returns where field id's data starts in the frame, -1 if the
// field is absent. With Set-like in-place rewrites the switch needs it to
// patch a copy of the frame (e.g. the link STAN in field 11).
func (v *View) Offset(id int) int {
	if !v.Has(id) {
		return -1
	}
	return int(v.data[id])
}
