package issuersim

import "github.com/cardswitch/cardswitch/config"

// validate applies config's rules for a simulator (the same ones a config
// file's simulators section is checked with) to cfg, which may be built by
// hand (tests, the issuer-sim command's flags): the first problem is the
// error.
func validate(cfg config.Simulator) error {
	problems := cfg.Problems()
	if len(problems) == 0 {
		return nil
	}
	return &ConfigError{Sim: cfg.Name, Key: problems[0].Where, Reason: problems[0].Msg}
}
