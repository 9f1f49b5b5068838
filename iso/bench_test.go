package iso

import (
	"testing"
)

func BenchmarkScan(b *testing.B) {
	s := newTestScanner(b)
	var v View
	frame := []byte(golden0100)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if err := s.Scan(frame, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMoovUnpack(b *testing.B) {
	frame := []byte(golden0100)
	spec := Spec87()
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if err := NewMessage(spec).Unpack(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// loopReader replays the same bytes forever, like a busy connection.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.off:])
		n += c
		r.off = (r.off + c) % len(r.data)
	}
	return n, nil
}

func BenchmarkFrameRead(b *testing.B) {
	fr := NewFrameReader(&loopReader{data: AppendFrame(nil, []byte(golden0100))}, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(golden0100) + headerLen))
	for b.Loop() {
		if _, err := fr.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildResponse(b *testing.B) {
	s := newTestScanner(b)
	var v View
	if err := s.Scan([]byte(golden0100), &v); err != nil {
		b.Fatal(err)
	}
	spec := Spec87()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildResponse(spec, &v, "91"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendResponse: the switch's own answer to an 0100 built by
// copying, against BenchmarkBuildResponse's moov pack.
func BenchmarkAppendResponse(b *testing.B) {
	s, err := NewScanner(Spec87())
	if err != nil {
		b.Fatal(err)
	}
	var v View
	if err := s.Scan([]byte(golden0100), &v); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	buf := make([]byte, 0, 512)
	for range b.N {
		if _, err := s.AppendResponse(buf[:0], &v, "91"); err != nil {
			b.Fatal(err)
		}
	}
}
