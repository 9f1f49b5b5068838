package switchd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/switch/admin"
	"github.com/cardswitch/cardswitch/switch/issuer"
	"github.com/cardswitch/cardswitch/switch/metrics"
)

// setupOps creates the metrics and, when admin.address is set, binds the
// admin HTTP listener (/metrics, /healthz, /readyz, /admin/routes,
// /admin/reload, /admin/simulators).
func (s *Switch) setupOps(cfg *config.Config) error {
	s.metrics = metrics.New()
	s.metrics.SetInFlight(func() map[string]int {
		out := map[string]int{}
		for _, is := range s.routes.Load().issuers {
			out[is.Name] = is.InFlight()
		}
		return out
	})
	s.metrics.SetOffline(func() map[string]int {
		out := map[string]int{}
		for _, is := range s.routes.Load().issuers {
			out[is.Name] = 0
			if is.Offline() {
				out[is.Name] = 1
			}
		}
		return out
	})
	if s.jrnl != nil {
		s.metrics.SetJournalLag(func() float64 { return float64(s.journalLag()) })
		if il, ok := s.jrnl.(interface{ IndexLag() time.Duration }); ok { // the SQLite journal's
			s.metrics.SetJournalIndexLag(func() float64 { return il.IndexLag().Seconds() })
		}
		s.metrics.SetReversalQueue(func() float64 {
			n, _ := s.jrnl.ReversalCount()
			return float64(n)
		})
		s.metrics.SetReversalsLocked(func() float64 { return float64(s.lockedReversals.Load()) })
		s.metrics.SetAdviceQueue(
			func() float64 { q, _ := s.jrnl.AdviceQueueState(); return float64(q.Owed) },
			func() float64 {
				if q, _ := s.jrnl.AdviceQueueState(); !q.Oldest.IsZero() {
					return time.Since(q.Oldest).Seconds()
				}
				return 0
			},
			func() float64 { q, _ := s.jrnl.AdviceQueueState(); return float64(q.Exceptions) })
	}
	if cfg.Admin.Address == "" {
		return nil
	}
	a, err := admin.New(cfg.Admin.Address, adminAccess(cfg), adminBackend{s}, s.metrics.Handler(), s.log)
	if err != nil {
		return fmt.Errorf("admin listener: %w", err)
	}
	if s.sims != nil {
		a.SetSimulators(s.sims)
	}
	a.SetStatus(statusAPI{s})
	s.admin = a
	return nil
}

// adminAccess is who may use the admin listener under cfg.
func adminAccess(cfg *config.Config) admin.Access {
	return admin.Access{Token: cfg.Admin.Token, Hosts: cfg.Admin.Hosts}
}

// setAdminAccess applies a loaded config's admin token and hosts before
// the content-hash check, so that a token file rewritten under an
// unchanged config takes effect on the next reload.
func (s *Switch) setAdminAccess(cfg *config.Config) error {
	if s.admin == nil {
		return nil
	}
	if err := s.admin.SetAccess(adminAccess(cfg)); err != nil {
		return fmt.Errorf("%w; the admin listener keeps its token until a restart", err)
	}
	return nil
}

// AdminAddr is the admin listener's address, "" when it is disabled.
func (s *Switch) AdminAddr() string {
	if s.admin == nil {
		return ""
	}
	return s.admin.Addr()
}

// linkState keeps waiters and metrics up to date on link changes.
func (s *Switch) linkState(l *issuer.Link, up bool) {
	s.metrics.LinkUp(l.Config().Issuer, l.Addr(), l.Conn(), up)
	s.linkChanges.notify(l, up)
}

// adminBackend answers the admin listener.
type adminBackend struct{ s *Switch }

func (b adminBackend) Ready() (bool, string) {
	s := b.s
	if s.draining.Load() {
		return false, "shutting down"
	}
	for _, is := range s.routes.Load().issuers {
		if is.UpLinks() > 0 {
			return true, ""
		}
	}
	return false, "no issuer link is up"
}

func (b adminBackend) Routes() any { return b.s.Routes() }

func (b adminBackend) Reload(ctx context.Context) (any, error) {
	res, err := b.s.Reload(ctx)
	if errors.Is(err, ErrNoConfigFile) {
		return nil, err
	}
	return res, err
}
