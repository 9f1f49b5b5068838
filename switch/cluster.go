package switchd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/journal"
)

// nodeReport is what this node's heartbeat publishes on a shared
// (PostgreSQL) journal: its config and routing hashes and its live links
// per issuer, for `cardswitch cluster status` (journal.PG.Nodes).
func (s *Switch) nodeReport() journal.NodeReport {
	snap := s.routes.Load()
	if snap == nil {
		return journal.NodeReport{}
	}
	r := journal.NodeReport{ConfigHash: snap.cfg.Hash, RoutingHash: s.routing.of(snap.cfg),
		Links: make(map[string]int, len(snap.issuers))}
	for _, is := range snap.issuers {
		r.Links[is.Name] = is.UpLinks()
	}
	return r
}

// beater is a journal with node heartbeats (the PostgreSQL journal).
type beater interface {
	Beat(ctx context.Context) error
}

// beatNow publishes this node's report at once: at start (before Run
// serves, so that `cluster status` and the status page show the config in
// force from the first moment) and after a reload (in the background: a
// database that does not answer holds up nothing; the periodic heartbeat
// says the same later).
func (s *Switch) beatNow(wait bool) {
	b, ok := s.jrnl.(beater)
	if !ok || s.jrnl == nil {
		return
	}
	beat := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Beat(ctx); err != nil {
			s.log.Warn("journal.postgres: heartbeat after start or reload failed; the periodic one retries", "err", err)
		}
	}
	if wait {
		beat()
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		beat()
	}()
}

// routingHash remembers the routing hash of the config in force: a table
// of half a million routes takes a few ms to hash, and a heartbeat comes
// every few seconds.
type routingHash struct {
	mu   sync.Mutex
	cfg  *config.Config
	hash string
}

// of returns cfg's routing hash: SHA-256 over its routes, in order, and
// its default issuer. Two nodes route alike when theirs are equal,
// whatever else their config files hold.
func (h *routingHash) of(cfg *config.Config) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cfg == cfg {
		return h.hash
	}
	sum := sha256.New()
	for _, r := range cfg.Routes {
		_, _ = sum.Write([]byte(r.BIN + "\x00" + r.Issuer + "\n"))
	}
	_, _ = sum.Write([]byte("default\x00" + cfg.DefaultIssuer + "\n"))
	h.cfg, h.hash = cfg, hex.EncodeToString(sum.Sum(nil))
	return h.hash
}
