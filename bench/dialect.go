package main

import (
	"fmt"
	"strings"

	"github.com/cardswitch/cardswitch/iso"
)

// envDialect is the dialect a lean issuer or echo child speaks;
// envAcqDialect and envIssDialect are the switch child's listen.dialect
// and issuers[].dialect.
const (
	envDialect    = "CARDSWITCH_BENCH_DIALECT"
	envAcqDialect = "CARDSWITCH_BENCH_ACQ_DIALECT"
	envIssDialect = "CARDSWITCH_BENCH_ISS_DIALECT"
)

// dialects are --dialect A,B: the acquirer side's and the issuer side's.
type dialects struct{ acq, iss iso.Dialect }

func (d dialects) String() string { return d.acq.Name + "," + d.iss.Name }

// translated reports whether the switch translates between the two sides.
func (d dialects) translated() bool { return d.acq.Name != d.iss.Name }

// parseDialects reads --dialect A,B (two built-in dialect names). The moov
// issuer packs iso87ascii only.
func parseDialects(s, issuer string) (dialects, error) {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return dialects{}, fmt.Errorf("--dialect %q: want A,B (the acquirer's dialect, then the issuer's)", s)
	}
	var d dialects
	var err error
	if d.acq, err = iso.LookupDialect(strings.TrimSpace(a)); err != nil {
		return dialects{}, fmt.Errorf("--dialect: %w", err)
	}
	if d.iss, err = iso.LookupDialect(strings.TrimSpace(b)); err != nil {
		return dialects{}, fmt.Errorf("--dialect: %w", err)
	}
	if issuer == "moov" && d.iss.Name != "iso87ascii" {
		return dialects{}, fmt.Errorf("--dialect: the moov issuer speaks iso87ascii only, not %s", d.iss.Name)
	}
	return d, nil
}
