package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
)

func issuerWhere(i int, name string) string {
	if name == "" {
		return fmt.Sprintf("issuers[%d]", i)
	}
	return fmt.Sprintf("issuers[%d] (%s)", i, name)
}

func (v *validator) issuers(raw []rawIssuer) []Issuer {
	_, def := Defaults()
	issuers := make([]Issuer, len(raw))
	seen := make(map[string]int)
	for i, r := range raw {
		where := issuerWhere(i, r.Name)
		if r.Name == "" {
			v.add(where, "name is required")
		} else if first, dup := seen[r.Name]; dup {
			v.add(where, "duplicate issuer name, first used by issuers[%d]", first)
		} else {
			seen[r.Name] = i
		}
		v.endpoints(where, r.Endpoints)
		is := Issuer{
			Name:           r.Name,
			Endpoints:      r.Endpoints,
			Connections:    v.connections(where, r.Connections, def.Connections),
			Timeout:        v.duration(where, "timeout", r.Timeout, def.Timeout, true),
			EchoInterval:   v.duration(where, "echo_interval", r.EchoInterval, def.EchoInterval, false),
			ConnectTimeout: v.duration(where, "connect_timeout", r.ConnectTimeout, def.ConnectTimeout, true),
			ReconnectMin:   v.duration(where, "reconnect_min", r.ReconnectMin, def.ReconnectMin, true),
			ReconnectMax:   v.duration(where, "reconnect_max", r.ReconnectMax, def.ReconnectMax, true),
			TLS:            v.clientTLS(where, r.TLS, r.HasTLS),
			MaxInFlight:    int(v.integer(where, "max_in_flight", r.MaxInFlight, 0)),
			OfflineAfter:   int(v.integer(where, "offline_after", r.OfflineAfter, 0)),
			StandIn:        v.standIn(where, r.StandIn, def.StandIn),
			Dialect:        r.Dialect,
		}
		if is.Dialect == "" {
			is.Dialect = def.Dialect
		}
		if is.ReconnectMin > is.ReconnectMax {
			v.add(where, "reconnect_min %s is above reconnect_max %s", is.ReconnectMin, is.ReconnectMax)
		}
		issuers[i] = is
	}
	return issuers
}

// connections is issuers[].connections: 1..MaxConnections.
func (v *validator) connections(where, s string, def int) int {
	n := v.integer(where, "connections", s, int64(def))
	switch {
	case n < 0: // integer reported it
		return def
	case n == 0 || n > MaxConnections:
		v.add(where, "%s: must be 1..%d", quoteKey("connections", s), MaxConnections)
		return def
	}
	return int(n)
}

func (v *validator) endpoints(where string, endpoints []string) {
	if len(endpoints) == 0 {
		v.add(where, "at least one endpoint is required")
	}
	seen := make(map[string]bool, len(endpoints))
	for j, ep := range endpoints {
		if err := checkHostPort(ep, true); err != nil {
			v.add(where, "endpoints[%d] %q: %v", j, ep, err)
		} else if seen[ep] {
			v.add(where, "endpoints[%d] %q: duplicate endpoint", j, ep)
		}
		seen[ep] = true
	}
}

// checkHostPort accepts "host:port" with a numeric port. A dial target
// needs a host and a non-zero port; a listen address may leave the host
// empty (all interfaces) and use port 0 (any free port, handy in tests).
func checkHostPort(addr string, dial bool) error {
	if addr == "" {
		return errors.New("must be host:port, is empty")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("must be host:port")
	}
	if dial && host == "" {
		return errors.New("must be host:port, host is empty")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return errors.New("port must be a number 0..65535")
	}
	if dial && p == 0 {
		return errors.New("port must not be 0")
	}
	return nil
}

// standIn is issuers[].stand_in. Its limits are checked even when it is
// disabled: turning it on must not reveal a mistake made earlier.
func (v *validator) standIn(where string, r rawStandIn, def StandIn) StandIn {
	where += ".stand_in"
	si := StandIn{
		Enabled:         r.Enabled,
		MaxAmount:       v.integer(where, "max_amount", r.MaxAmount, 0),
		MaxCount:        int(v.integer(where, "max_count", r.MaxCount, 0)),
		MaxTotal:        v.integer(where, "max_total", r.MaxTotal, 0),
		Window:          v.duration(where, "window", r.Window, def.Window, true),
		BlockProcessing: v.digitCodes(where, "block_processing", r.BlockProcessing, 2),
		BlockMCC:        v.digitCodes(where, "block_mcc", r.BlockMCC, 4),
		AdviceTTL:       v.duration(where, "advice_ttl", r.AdviceTTL, def.AdviceTTL, true),
		AdviceRate:      def.AdviceRate,
	}
	if r.AdviceRate != "" {
		n, err := strconv.ParseFloat(r.AdviceRate, 64)
		if err != nil || !(n > 0) || math.IsInf(n, 0) {
			v.add(where, "advice_rate %q: must be a positive number (advices per second)", r.AdviceRate)
		} else {
			si.AdviceRate = n
		}
	}
	if si.Enabled && si.MaxAmount <= 0 {
		v.add(where, "max_amount is required (> 0) when stand-in is enabled")
	}
	return si
}

// digitCodes checks a list of codes of n digits each.
func (v *validator) digitCodes(where, key string, codes []string, n int) []string {
	for i, c := range codes {
		if len(c) != n || strings.Trim(c, "0123456789") != "" {
			v.add(where, "%s[%d] %q: must be %d digits (quote it: YAML drops leading zeros)", key, i, c, n)
		}
	}
	return codes
}
