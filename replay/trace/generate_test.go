package trace

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLuhn(t *testing.T) {
	for _, pan := range []string{"4111111111111111", "5555555555554444", "6011000000000004", "4222222222222", "79927398713"} {
		assert.True(t, LuhnValid(pan), pan)
	}
	for _, pan := range []string{"4111111111111112", "", "4", "41111111111a1111", "79927398710"} {
		assert.False(t, LuhnValid(pan), pan)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for n := 2; n <= 19; n++ {
		pan := LuhnComplete("510510", n, rnd)
		require.Len(t, pan, n)
		assert.True(t, LuhnValid(pan), pan)
		assert.True(t, strings.HasPrefix("510510", pan[:min(6, n-1)]), pan)
	}
	assert.Empty(t, LuhnComplete("41x", 16, rnd))
	assert.Empty(t, LuhnComplete("4", 20, rnd))
}

func TestGenerate(t *testing.T) {
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	o := GenOptions{BINs: []string{"411111", "5105"}, MinAmount: 500, MaxAmount: 900, Count: 3000, Seed: 42, Start: start}
	msgs := Generate(o)
	require.Len(t, msgs, 3000)
	stans, rrns, bins := map[string]bool{}, map[string]bool{}, map[string]int{}
	for _, m := range msgs {
		v := scanned(t, m.Frame)
		pan := string(v.Field(2))
		assert.True(t, LuhnValid(pan), iso.MaskPAN(v.Field(2)))
		switch {
		case strings.HasPrefix(pan, "411111"):
			bins["411111"]++
		case strings.HasPrefix(pan, "5105"):
			bins["5105"]++
		default:
			t.Fatalf("PAN %s outside the BINs", iso.MaskPAN(v.Field(2)))
		}
		amount, err := strconv.Atoi(string(v.Field(4)))
		require.NoError(t, err)
		assert.GreaterOrEqual(t, amount, 500)
		assert.LessOrEqual(t, amount, 900)
		assert.Equal(t, "0100", string(v.MTI()))
		for _, id := range []int{3, 7, 11, 12, 13, 37, 41, 42, 49} {
			assert.True(t, v.Has(id), "field %d", id)
		}
		stans[string(v.Field(11))] = true
		rrns[string(v.Field(37))] = true
		assert.Equal(t, NoTiming, m.At)
		assert.Empty(t, m.Expect)
	}
	assert.Len(t, stans, 3000, "STANs unique")
	assert.Len(t, rrns, 3000, "RRNs unique")
	assert.Positive(t, bins["411111"])
	assert.Positive(t, bins["5105"])
	assert.Equal(t, "0601120000", fieldOf(t, msgs[0], 7))

	again := Generate(o)
	assert.Equal(t, msgs[17].Frame, again[17].Frame, "same seed, same trace")
	o.Seed = 43
	assert.NotEqual(t, msgs[17].Frame, Generate(o)[17].Frame)
}

func TestGenerateDefaults(t *testing.T) {
	msgs := Generate(GenOptions{Count: 200})
	require.Len(t, msgs, 200)
	for _, m := range msgs {
		pan := fieldOf(t, m, 2)
		assert.Contains(t, DefaultBINs, pan[:6])
	}
	assert.Len(t, Generate(GenOptions{}), DefaultGenCount)
}

func TestGenOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		o    GenOptions
		want string
	}{
		{GenOptions{BINs: []string{"41x"}}, `BIN "41x": want 1 to 15 digits`},
		{GenOptions{BINs: []string{"4111111111111111"}}, `BIN "4111111111111111": want 1 to 15 digits`},
		{GenOptions{Count: -1}, "count must not be negative"},
		{GenOptions{MinAmount: 10, MaxAmount: 5}, "max amount 5 is below min amount 10"},
		{GenOptions{MaxAmount: 1e13}, "max amount exceeds 12 digits"},
	} {
		require.EqualError(t, tc.o.Validate(), tc.want)
		assert.Panics(t, func() { Generate(tc.o) })
	}
}

func TestWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	m := iso8583.NewMessage(iso.Spec87())
	m.MTI("0100")
	for id, v := range map[int]string{2: "4111111111111111", 3: "000000", 4: "000000001000", 11: "000042", 41: "TERM0001"} {
		require.NoError(t, m.Field(id, v))
	}
	require.NoError(t, m.BinaryField(52, []byte{1, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF}))
	require.NoError(t, w.Write(m, 1500*time.Millisecond, "00"))
	require.NoError(t, w.Write(m, 0, ""))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	assert.True(t, strings.HasPrefix(lines[0], `{"0":"0100","2":"4111111111111111","3":0,"4":1000,"11":42,`), lines[0])
	assert.True(t, strings.HasSuffix(lines[0], `,"t":1.5,"expect":"00"}`), lines[0])

	msgs, format, err := Parse(&buf, "w.jsonl")
	require.NoError(t, err)
	assert.Equal(t, FormatJSONL, format)
	require.Len(t, msgs, 2)
	packed, err := m.Pack()
	require.NoError(t, err)
	assert.Equal(t, packed, msgs[0].Frame)
	assert.Equal(t, 1500*time.Millisecond, msgs[0].At)
	assert.Equal(t, []string{"00"}, msgs[0].Expect)
	assert.Equal(t, time.Duration(0), msgs[1].At)
	assert.Empty(t, msgs[1].Expect)
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		Generate(GenOptions{Count: 1000})
	}
}
