package switchd

import (
	"fmt"
	"os"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/switch/internal/wire"
)

// envWireDirect selects the direct-write experiment (wire.Direct; off by
// default), so that one binary can be benchmarked with each variant in
// alternating runs. It is read once, at process start: not a config key,
// because it is a measurement switch, not an operator's choice.
const envWireDirect = "CARDSWITCH_WIRE_DIRECT"

// wireDirectEnv is CARDSWITCH_WIRE_DIRECT as the process started with it.
var wireDirectEnv = os.Getenv(envWireDirect)

// setDirect sets s.direct from CARDSWITCH_WIRE_DIRECT unless an Option
// did. With a PostgreSQL journal direct writes stay off: a reader writing
// a batch passes its gate itself, and that is a round trip to the
// database (the commit of the batch's records) a reader must not wait on.
func (s *Switch) setDirect(cfg *config.Config) error {
	if !s.directSet {
		d, err := wire.ParseDirect(wireDirectEnv)
		if err != nil {
			return fmt.Errorf("%s: %w", envWireDirect, err)
		}
		s.direct = d
	}
	if s.direct == 0 {
		return nil
	}
	if cfg.Journal.Postgres != "" {
		s.log.Warn("direct writes are off with a PostgreSQL journal", "variant", s.direct.String())
		s.direct = 0
		return nil
	}
	// A warning: an experimental write path is on (and the benchmark's
	// switch child, which logs warnings only, shows which).
	s.log.Warn("direct writes on (an experiment)", "variable", envWireDirect, "variant", s.direct.String())
	return nil
}
