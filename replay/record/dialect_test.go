package record

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/dialectio"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/replay/trace"
)

// The proxy passes a 1993 binary dialect through unchanged and records
// the field values (1993 text form) under a note naming the dialect.
func TestRecordDialect1993(t *testing.T) {
	d, err := dialectio.Lookup("iso93binary")
	require.NoError(t, err)
	sim, err := issuersim.New(config.Simulator{Listen: "127.0.0.1:0", Dialect: d.Name,
		Rules: []config.SimRule{{PANSuffix: "0051", Code: "51"}}}, nil)
	require.NoError(t, err)
	go func() { _ = sim.Serve() }()
	t.Cleanup(func() { _ = sim.Close() })

	var out lockedBuffer
	p, err := New(Options{Listen: "127.0.0.1:0", Upstream: sim.Addr(), Out: &out, KeepPAN: true, Dialect: d})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- p.Serve() }()

	spec, err := d.Spec()
	require.NoError(t, err)
	nc, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	fr := iso.NewFramedReader(nc, d.Framing, 0)
	for i, pan := range []string{"4111111111111111", "4111111111110051"} {
		m := iso8583.NewMessage(spec)
		m.MTI("1100")
		require.NoError(t, m.Field(2, pan))
		require.NoError(t, m.Field(4, "000000001000"))
		require.NoError(t, m.Field(11, []string{"000001", "000002"}[i]))
		require.NoError(t, m.Field(12, "261207101010"))
		b, err := m.Pack()
		require.NoError(t, err)
		require.NoError(t, d.Framing.WriteFramed(nc, nil, b))
		require.NoError(t, nc.SetReadDeadline(time.Now().Add(30*time.Second)))
		_, body, err := fr.Next()
		require.NoError(t, err)
		resp := iso8583.NewMessage(spec)
		require.NoError(t, resp.Unpack(body), "the answer passed through intact")
	}
	require.NoError(t, nc.Close())
	require.NoError(t, p.Close())
	require.NoError(t, <-done)

	text := out.String()
	require.True(t, strings.HasPrefix(text, "# dialect: iso93binary\n"), text)
	assert.Contains(t, text, `"12":"261207101010"`, "1993 values")
	assert.Contains(t, text, `"expect":"000"`)
	assert.Contains(t, text, `"expect":"116"`)
	ts, err := dialectio.TextSpec(d)
	require.NoError(t, err)
	msgs, _, err := trace.ParseLogSpec(strings.NewReader(text), "rec.jsonl", slog.Default(), ts)
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	assert.Equal(t, []string{"116"}, msgs[1].Expect)
}
