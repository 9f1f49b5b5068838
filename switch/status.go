package switchd

import (
	"context"
	"time"

	"github.com/cardswitch/cardswitch/switch/issuer"
)

// StatusVersion is the version of the status page's JSON (README "Status
// page"): it changes when a field changes meaning or goes away, not when
// one is added.
const StatusVersion = 1

// StatusDoc is GET /status.json.
type StatusDoc struct {
	Version   int              `json:"version"`
	Node      string           `json:"node"`
	Now       time.Time        `json:"now"`
	StartedAt time.Time        `json:"started_at"`
	Config    StatusConfig     `json:"config"`
	Switch    StatusSwitch     `json:"switch"`
	Issuers   []StatusIssuer   `json:"issuers"`
	Acquirers []StatusAcquirer `json:"acquirers"`
	Reloads   []ReloadRecord   `json:"reloads"`
	Cluster   *StatusCluster   `json:"cluster"`
}

// StatusConfig is the configuration in force.
type StatusConfig struct {
	Hash     string    `json:"hash"`
	LoadedAt time.Time `json:"loaded_at"`
	Source   string    `json:"source"`
}

// StatusSwitch is the whole switch's traffic.
type StatusSwitch struct {
	InFlight      int64             `json:"in_flight"`
	WindowSeconds int               `json:"window_seconds"`
	Series        Series            `json:"series"`
	Codes         map[string]uint64 `json:"codes"`
}

// StatusIssuer is one issuer, its links, queues and traffic.
type StatusIssuer struct {
	Name                string            `json:"name"`
	Dialect             string            `json:"dialect"`
	TimeoutMs           int64             `json:"timeout_ms"`
	State               string            `json:"state"`
	InFlight            int               `json:"in_flight"`
	ConsecutiveTimeouts int64             `json:"consecutive_timeouts"`
	Offline             bool              `json:"offline"`
	StandIn             StatusStandIn     `json:"stand_in"`
	Queues              StatusQueues      `json:"queues"`
	Links               []StatusLink      `json:"links"`
	Series              Series            `json:"series"`
	Codes               map[string]uint64 `json:"codes"`
}

// StatusStandIn is an issuer's stand-in: configured, and the decisions
// made since the start.
type StatusStandIn struct {
	Enabled   bool   `json:"enabled"`
	Decisions uint64 `json:"decisions"`
}

// StatusQueues are an issuer's stored messages owed: reversals, stand-in
// advices, and the age of the oldest.
type StatusQueues struct {
	Reversals        int      `json:"reversals"`
	Advices          int      `json:"advices"`
	OldestAgeSeconds *float64 `json:"oldest_age_seconds"`
}

// StatusLink is one issuer link.
type StatusLink struct {
	Endpoint   string     `json:"endpoint"`
	Conn       int        `json:"conn"`
	State      string     `json:"state"`
	InFlight   int        `json:"in_flight"`
	LastAnswer *time.Time `json:"last_answer"`
	LastEcho   *time.Time `json:"last_echo"`
	Since      time.Time  `json:"since"`
}

// StatusAcquirer is one open acquirer connection.
type StatusAcquirer struct {
	Name        string    `json:"name"`
	Remote      string    `json:"remote"`
	Listener    string    `json:"listener"`
	InFlight    int64     `json:"in_flight"`
	ConnectedAt time.Time `json:"connected_at"`
}

// Link and issuer states.
const (
	stateUp        = "up"
	statePartial   = "partial"
	stateDown      = "down"
	stateOffline   = "offline"
	stateSigningOn = "signing_on"
)

// statusAPI answers the admin listener's status endpoints (admin.Status).
type statusAPI struct{ s *Switch }

// StatusJSON implements admin.Status.
func (a statusAPI) StatusJSON() any { return a.s.Status(context.Background()) }

// Status is the switch's state as GET /status.json shows it.
func (s *Switch) Status(ctx context.Context) StatusDoc {
	now := time.Now()
	snap := s.routes.Load()
	cfg := snap.cfg
	marks := s.series.snapshot(seriesMark{at: now, totals: s.metrics.Totals()})
	doc := StatusDoc{Version: StatusVersion, Node: cfg.Cluster.Node, Now: now.UTC(), StartedAt: s.started.UTC(),
		Config: StatusConfig{Hash: cfg.Hash, LoadedAt: cfg.LoadedAt.UTC(), Source: cfg.Source},
		Switch: StatusSwitch{InFlight: s.txns.n.Load(), WindowSeconds: int(seriesWindow / time.Second),
			Series: seriesOf(marks, nil), Codes: codesOf(marks, nil)},
		Issuers: []StatusIssuer{}, Acquirers: s.statusAcquirers(), Reloads: s.reloadHistory.list(),
		Cluster: s.statusCluster(ctx, cfg)}
	queues := s.queuesByIssuer()
	last := &marks[len(marks)-1].totals
	for i, is := range snap.issuers {
		ic := &cfg.Issuers[i]
		pick := func(name string) bool { return name == is.Name }
		st := StatusIssuer{Name: is.Name, Dialect: dialectName(ic.Dialect), TimeoutMs: ic.Timeout.Milliseconds(),
			InFlight: is.InFlight(), ConsecutiveTimeouts: is.Timeouts(), Offline: is.Offline(),
			StandIn: StatusStandIn{Enabled: ic.StandIn.Enabled}, Queues: queues[is.Name], Links: []StatusLink{},
			Series: seriesOf(marks, pick), Codes: codesOf(marks, pick)}
		if it := last.Issuers[is.Name]; it != nil {
			st.StandIn.Decisions = it.StandIn
		}
		for _, l := range is.Links() {
			st.Links = append(st.Links, statusLink(l))
		}
		st.State = issuerState(st.Offline, st.Links)
		doc.Issuers = append(doc.Issuers, st)
	}
	return doc
}

func statusLink(l *issuer.Link) StatusLink {
	ls := l.Status()
	out := StatusLink{Endpoint: l.Addr(), Conn: l.Conn(), State: stateDown, InFlight: l.InFlight(),
		LastAnswer: optTime(ls.LastRx), LastEcho: optTime(ls.LastEcho), Since: ls.Since.UTC()}
	switch {
	case ls.Up:
		out.State = stateUp
	case ls.SigningOn:
		out.State = stateSigningOn
	}
	return out
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// issuerState sums up an issuer's links: offline when the switch took it
// offline; up when every link is, partial when some are; signing_on when
// none is up but one is signing on; down otherwise.
func issuerState(offline bool, links []StatusLink) string {
	if offline {
		return stateOffline
	}
	up, signing := 0, 0
	for _, l := range links {
		switch l.State {
		case stateUp:
			up++
		case stateSigningOn:
			signing++
		}
	}
	switch {
	case up > 0 && up == len(links):
		return stateUp
	case up > 0:
		return statePartial
	case signing > 0:
		return stateSigningOn
	}
	return stateDown
}

// statusAcquirers lists the open acquirer connections.
func (s *Switch) statusAcquirers() []StatusAcquirer {
	out := []StatusAcquirer{}
	s.eachConn(func(c *acqConn) {
		a := StatusAcquirer{Remote: c.remote, Listener: c.lst.name, InFlight: c.inflight.Load(),
			ConnectedAt: c.connectedAt.UTC()}
		if n := c.shownName.Load(); n != nil {
			a.Name = *n
		}
		out = append(out, a)
	})
	return out
}
