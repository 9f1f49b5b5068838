package pan

import (
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	for p, want := range map[string]string{
		"4111111111111111":    "411111******1111",
		"6229250000000000001": "622925*********0001",
		"41111111111":         "*******1111", // 11 digits: 6+4 would show all but one
		"4111111111":          "******1111",
		"4111111":             "*******",
		"":                    "",
		"4111x11111111111":    "4111?1******1111",
		// Longer than a PAN (garbage in field 2): still every middle byte.
		"41111122222222222222222222223333": "411111**********************3333",
	} {
		if got := Mask([]byte(p)); got != want {
			t.Errorf("Mask(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestAppendMaskedDoesNotAllocate(t *testing.T) {
	var buf [MaxLen]byte
	pan := []byte("4111111111111111")
	got := testing.AllocsPerRun(100, func() { _ = AppendMasked(buf[:0], pan) })
	if got != 0 {
		t.Fatalf("%v allocations", got)
	}
	if s := string(AppendMasked([]byte("x"), pan)); s != "x411111******1111" {
		t.Fatalf("got %q", s)
	}
}

// BenchmarkAppendMasked: masking runs for every journaled answer and every
// answer the status page's ring keeps.
func BenchmarkAppendMasked(b *testing.B) {
	var buf [MaxLen]byte
	pan := []byte("4111111111111111")
	for b.Loop() {
		_ = AppendMasked(buf[:0], pan)
	}
}

// A reused buffer's old bytes never show through: every hidden byte is
// written, however long the input.
func TestAppendMaskedOverwritesBuffer(t *testing.T) {
	for _, n := range []int{7, 12, 16, 19, 40} {
		buf := []byte(strings.Repeat("9", 64))
		in := []byte(strings.Repeat("1", n))
		got := string(AppendMasked(buf[:0], in))
		if strings.Contains(got, "9") || len(got) != n {
			t.Errorf("%d digits: %q", n, got)
		}
	}
}
