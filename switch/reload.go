package switchd

import (
	"context"
	"errors"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/switch/issuer"
)

// ReloadResult tells what a reload did.
type ReloadResult struct {
	Changed bool      `json:"changed"`           // false: same content hash, nothing done
	Hash    string    `json:"hash"`              // content hash now in force
	Loaded  time.Time `json:"loaded_at"`         // when the configuration in force was loaded
	Diff    string    `json:"diff,omitempty"`    // what changed, one line per item
	Restart []string  `json:"restart,omitempty"` // changed keys that only apply after a restart
}

// ErrShuttingDown: no reload once shutdown has begun.
var ErrShuttingDown = errors.New("switch shutting down: reload refused")

// ErrNoConfigFile: the switch runs on the embedded default; there is no
// file to reload.
var ErrNoConfigFile = errors.New("no config file to reload: running on the embedded default")

// Reload reads the config file again and applies it. The new file is
// loaded and validated in full before anything changes; an invalid file
// is rejected (the error lists every problem) and the running
// configuration keeps serving. A file whose content hash did not change
// is not applied again.
func (s *Switch) Reload(ctx context.Context) (ReloadResult, error) {
	path := s.source
	if path == config.DefaultSource {
		return ReloadResult{}, ErrNoConfigFile
	}
	// Load under the lock: of two overlapping triggers, the file read last
	// must be the one applied last.
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.draining.Load() {
		return ReloadResult{}, ErrShuttingDown
	}
	cfg, err := config.Load(path)
	if err != nil {
		s.reloads(false)
		s.reloadHistory.add(time.Now(), ReloadResult{}, err)
		s.log.Error("config reload rejected; the running configuration stays in force", "file", path, "err", err)
		return ReloadResult{}, err
	}
	res, err := s.apply(ctx, cfg)
	s.reloadHistory.add(time.Now(), res, err)
	return res, err
}

// Apply switches to an already validated configuration: issuers added are
// connected before any route points to them, removed ones are drained,
// changed endpoints or timing apply without touching unrelated links,
// and the new routing table is swapped in atomically.
func (s *Switch) Apply(ctx context.Context, cfg *config.Config) (ReloadResult, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	res, err := s.apply(ctx, cfg)
	s.reloadHistory.add(time.Now(), res, err)
	return res, err
}

func (s *Switch) apply(ctx context.Context, cfg *config.Config) (ReloadResult, error) {
	if s.draining.Load() {
		return ReloadResult{}, ErrShuttingDown
	}
	err := s.checkIssuerDialects(cfg)
	var cs certSet
	if err == nil {
		cs, err = s.loadCerts(cfg)
	}
	if err == nil {
		err = s.setAdminAccess(cfg)
	}
	if err != nil {
		s.reloads(false)
		s.log.Error("config reload rejected; the running configuration stays in force", "file", cfg.Source, "err", err)
		return ReloadResult{}, err
	}
	s.certs.commit(cs)
	old := s.routes.Load()
	res := ReloadResult{Hash: old.cfg.Hash, Loaded: old.cfg.LoadedAt}
	if cfg.Hash == old.cfg.Hash {
		return s.certsOnly(res, cs), nil
	}
	d := config.Diff(old.cfg, cfg)
	res.Changed, res.Diff, res.Restart = true, d.String()+certLines(cs), d.Restart
	if len(d.Restart) > 0 {
		s.log.Warn("config changes that need a restart are NOT applied until then", "keys", d.Restart)
	}
	issuers, fresh := s.buildIssuers(cfg, old.issuers)
	for _, l := range fresh {
		s.links.start(l)
	}
	s.awaitFresh(ctx, cfg, issuers, fresh)
	s.routes.Store(&snapshot{cfg: cfg, table: cfg.Table(), issuers: issuers, acqs: registry(cfg),
		maxTotal: int64(maxTotal(cfg)), dialects: issuerDialects(cfg)})
	if s.dups != nil {
		s.dups.window.Store(int64(cfg.Journal.DuplicateWindow))
	}
	s.drainUnused(old.issuers, issuers)
	s.reloads(true)
	res.Hash, res.Loaded = cfg.Hash, cfg.LoadedAt
	s.log.Info("config reloaded", "file", cfg.Source, "hash", short(cfg.Hash), "routes", cfg.Table().Len(),
		"issuers", len(issuers), "new_links", len(fresh), "rules_added", len(d.Added), "rules_removed", len(d.Removed),
		"rules_changed", len(d.Changed), "spans_moved", len(d.Moves), "issuers_added", d.IssuersAdded,
		"issuers_removed", d.IssuersRemoved, "issuers_changed", d.IssuersChanged)
	return res, nil
}

// awaitFresh waits (up to each issuer's connect timeout) until every issuer
// that has new links has at least one link up, so that a route moved to an
// added issuer does not answer 91 while it connects.
func (s *Switch) awaitFresh(ctx context.Context, cfg *config.Config, issuers []*issuer.Issuer, fresh []*issuer.Link) {
	isFresh := make(map[*issuer.Link]bool, len(fresh))
	for _, l := range fresh {
		isFresh[l] = true
	}
	for i, is := range issuers {
		waiting := false
		for _, l := range is.Links() {
			waiting = waiting || isFresh[l]
		}
		if !waiting {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, cfg.Issuers[i].ConnectTimeout)
		err := s.linkChanges.wait(wctx, func() bool { return is.UpLinks() > 0 })
		cancel()
		if err != nil {
			s.log.Warn("issuer not connected before its routes took effect; its requests get 91 until it is",
				"issuer", is.Name)
		}
	}
}

// drainUnused drains every link of prev that next no longer uses.
func (s *Switch) drainUnused(prev, next []*issuer.Issuer) {
	kept := make(map[*issuer.Link]bool)
	for _, is := range next {
		for _, l := range is.Links() {
			kept[l] = true
		}
	}
	for _, is := range prev {
		for _, l := range is.Links() {
			if !kept[l] {
				s.bg.Add(1)
				go func() {
					defer s.bg.Done()
					s.drain(l)
				}()
			}
		}
	}
}

func (s *Switch) reloads(ok bool) {
	if ok {
		s.stats.reloads.Add(1)
	} else {
		s.stats.reloadErrors.Add(1)
	}
	s.metrics.Reload(ok)
	s.linkChanges.notify(nil, ok)
}

// Routes describes the routing table in force (GET /admin/routes).
type Routes struct {
	Hash          string        `json:"hash"`
	LoadedAt      time.Time     `json:"loaded_at"`
	Source        string        `json:"source"`
	DefaultIssuer string        `json:"default_issuer,omitempty"`
	Rules         []RouteRule   `json:"routes"`
	Issuers       []IssuerState `json:"issuers"`
}

// RouteRule is one routing rule.
type RouteRule struct {
	BIN    string `json:"bin"`
	Issuer string `json:"issuer"`
}

// IssuerState is one issuer and its links.
type IssuerState struct {
	Name     string `json:"name"`
	Timeout  string `json:"timeout"`
	InFlight int    `json:"in_flight"`
	// Offline: the switch took the issuer offline after
	// issuers[].offline_after consecutive timeouts; its requests are
	// decided at once until an 0810 or an answer brings it back.
	Offline bool        `json:"offline,omitempty"`
	Links   []LinkState `json:"links"`
}

// LinkState is one issuer link.
type LinkState struct {
	Endpoint string `json:"endpoint"`
	Conn     int    `json:"conn"` // which of the endpoint's links, from 1 (issuers[].connections)
	Up       bool   `json:"up"`
	InFlight int    `json:"in_flight"`
}

// Routes returns the live routing table.
func (s *Switch) Routes() Routes {
	snap := s.routes.Load()
	r := Routes{Hash: snap.cfg.Hash, LoadedAt: snap.cfg.LoadedAt, Source: snap.cfg.Source,
		DefaultIssuer: snap.cfg.DefaultIssuer}
	for _, rt := range snap.cfg.Routes {
		r.Rules = append(r.Rules, RouteRule{BIN: rt.BIN, Issuer: rt.Issuer})
	}
	for i, is := range snap.issuers {
		st := IssuerState{Name: is.Name, Timeout: snap.cfg.Issuers[i].Timeout.String(), Offline: is.Offline()}
		for _, l := range is.Links() {
			n := l.InFlight()
			st.InFlight += n
			st.Links = append(st.Links, LinkState{Endpoint: l.Addr(), Conn: l.Conn(), Up: l.Up(), InFlight: n})
		}
		r.Issuers = append(r.Issuers, st)
	}
	return r
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}
