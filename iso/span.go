package iso

// Span is where a field's data lies in its frame: a frame is at most
// MaxFrameLen bytes, so two uint16s do. A Span outlives the View it came
// from, for a copy of the same frame (the switch keeps a request's spans
// with its copy and reads its journal fields from them when the answer
// comes, instead of scanning the request again). The zero Span is an
// absent field.
type Span struct{ Off, End uint16 }

// Span returns field id's data as a Span; the zero Span if absent or not
// scanned.
func (v *View) Span(id int) Span {
	if !v.Has(id) {
		return Span{}
	}
	return Span{Off: uint16(v.data[id]), End: uint16(v.end[id])} // #nosec G115 -- frames are at most MaxFrameLen
}

// In returns the span's bytes of frame, capacity clipped; nil for the zero
// Span, as Field is for an absent field (no field starts at 0: the MTI
// does).
func (s Span) In(frame []byte) []byte {
	if s == (Span{}) {
		return nil
	}
	return frame[s.Off:s.End:s.End]
}

// RoutingPANSpan is RoutingPAN's PAN as a Span of v's frame; the zero
// Span when there is none. The PAN is a subslice of its field (past a
// track's start sentinel), and Field clips capacity at the field's end,
// so the difference of the two capacities is the PAN's offset in the
// field: the track's rules stay in PANFromTrack2 alone.
func RoutingPANSpan(v *View) Span {
	pan, field := RoutingPAN(v)
	if field == 0 {
		return Span{}
	}
	s := v.Span(field)
	s.Off += uint16(cap(v.Field(field)) - cap(pan)) // #nosec G115 -- within the field
	s.End = s.Off + uint16(len(pan))                // #nosec G115 -- at most 19 digits
	return s
}
