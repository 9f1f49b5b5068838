package issuersim

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
)

func TestLogsHoldNoCardData(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(config.Simulator{Name: "bank-a", Listen: "127.0.0.1:0",
		Rules: []config.SimRule{{PANSuffix: "0004", Malformed: true}}}, log)
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()

	c := dialSim(t, s.Addr())
	fields := authFields("4111111111111111", "100", "000001")
	fields[35] = track2
	fields[52] = pinData
	c.roundTrip(newMsg(t, "0100", fields))
	delete(fields, 2)
	c.roundTrip(newMsg(t, "0200", fields))
	c.send(newMsg(t, "0100", authFields("4111111111110004", "100", "000003")))
	c.recvRaw()
	// A frame that fails to unpack in field 2 (length prefix "9x").
	c.sendRaw([]byte("0100400000000000000019x4111111111111111"))
	c.roundTrip(newMsg(t, "0800", map[int]string{7: "1125175400", 11: "000004", 70: "301"}))
	require.NoError(t, s.Close())
	require.NoError(t, <-served)

	out := buf.String()
	for _, secret := range []string{"4111111111111111", "4111111111110004", "=2512", "0123456789ABCDEF", "0123456789abcdef"} {
		assert.NotContains(t, out, secret)
	}
	for _, want := range []string{
		"issuer link connected", "issuer link closed", "sim=bank-a",
		"pan=411111******1111", "action=malformed", "unparseable frame", "field=2",
	} {
		assert.Contains(t, out, want)
	}
}
