package switchd

import (
	"io"
	"log/slog"
	"testing"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/switch/internal/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CARDSWITCH_WIRE_DIRECT picks the variant; an unknown value fails New
// naming the variable; a PostgreSQL journal keeps direct writes off; an
// Option's choice wins over the variable.
func TestWireDirectFromEnvironment(t *testing.T) {
	saved := wireDirectEnv
	t.Cleanup(func() { wireDirectEnv = saved })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	set := func(env string, cfg *config.Config, opts ...Option) (*Switch, error) {
		wireDirectEnv = env
		s := &Switch{log: quiet}
		for _, o := range opts {
			o(s)
		}
		return s, s.setDirect(cfg)
	}
	var plain config.Config

	s, err := set("", &plain)
	require.NoError(t, err)
	assert.Equal(t, wire.Direct(0), s.direct, "unset: off")
	s, err = set("both1", &plain)
	require.NoError(t, err)
	assert.Equal(t, wire.DirectRequests|wire.DirectAnswers|wire.DirectOne, s.direct)

	_, err = set("fast", &plain)
	require.ErrorIs(t, err, wire.ErrDirect)
	assert.Contains(t, err.Error(), "CARDSWITCH_WIRE_DIRECT")

	pg := config.Config{Journal: config.Journal{Postgres: "postgres://x"}}
	s, err = set("both", &pg)
	require.NoError(t, err)
	assert.Equal(t, wire.Direct(0), s.direct, "a reader must not wait on the database")

	s, err = set("fast", &plain, func(s *Switch) { s.direct, s.directSet = wire.DirectAnswers, true })
	require.NoError(t, err, "an Option's choice: the variable is not read")
	assert.Equal(t, wire.DirectAnswers, s.direct)
}
