package dialectio

import (
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/iso"
)

func TestLookupUnknownListsKnown(t *testing.T) {
	_, err := Lookup("iso87klingon")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown dialect "iso87klingon"`)
	for _, d := range iso.BuiltinDialects() {
		assert.Contains(t, err.Error(), d.Name)
	}
	d, err := Lookup("")
	require.NoError(t, err)
	assert.Equal(t, Default, d.Name)
}

// Every built-in dialect carries a text-form request to its wire and back
// with every value intact, and its text form is one the scanner reads.
func TestRoundTripEveryDialect(t *testing.T) {
	for _, d := range iso.BuiltinDialects() {
		t.Run(d.Name, func(t *testing.T) {
			c, err := New(d)
			require.NoError(t, err)
			_, err = iso.NewScanner(c.TextSpec())
			require.NoError(t, err, "the text form must be scannable")
			m := iso8583.NewMessage(c.TextSpec())
			mti := "0100"
			if d.Version == 1993 {
				mti = "1100"
			}
			m.MTI(mti)
			for id, v := range map[int]string{2: "4111111111111111", 3: "000000", 4: "000000001000", 11: "000042", 37: "123456789012", 41: "TERM0001", 49: "840"} {
				require.NoError(t, m.Field(id, v))
			}
			require.NoError(t, m.BinaryField(52, []byte{0, 1, 2, 0xFF, 4, 5, 6, 7}))
			text, err := m.Pack()
			require.NoError(t, err)
			wire, err := c.ToWire(text)
			require.NoError(t, err)
			assert.Equal(t, c.Same(), string(wire) == string(text))
			same := d.Name == "iso87ascii" || d.Name == "iso87ascii-ascii4" || d.Name == "iso93ascii"
			assert.Equal(t, same, c.Same(), "re-packing only where the encoding is not the text form")
			back, err := c.ToText(wire)
			require.NoError(t, err)
			assert.Equal(t, text, back)
		})
	}
}

// A value the target cannot hold is refused naming the field, not quoting it.
func TestRepackNamesTheField(t *testing.T) {
	d, err := Lookup("iso87binary")
	require.NoError(t, err)
	c, err := New(d)
	require.NoError(t, err)
	m := iso8583.NewMessage(c.TextSpec())
	m.MTI("0100")
	require.NoError(t, m.Field(2, "4111111111111111"))
	require.NoError(t, m.Field(11, "000001"))
	require.NoError(t, m.Field(93, "ABCDE")) // 5 characters, the binary spec wants 6
	text, err := m.Pack()
	require.NoError(t, err)
	_, err = c.ToWire(text)
	require.EqualError(t, err, "field 93 does not fit iso87binary")

	_, err = c.ToText([]byte{0x01})
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.NotContains(t, err.Error(), "4111")
}
