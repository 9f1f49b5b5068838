package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// NodeReport is what a node's heartbeat publishes about it, besides the
// time: PGOptions.Report gives it at each beat.
type NodeReport struct {
	// ConfigHash is the hash of the node's config file (config.Config.Hash).
	ConfigHash string
	// RoutingHash is the hash of the routes it applies (routes and default
	// issuer): nodes that route alike have the same one.
	RoutingHash string
	// Links counts the node's signed-on links, by issuer name.
	Links map[string]int
}

// NodeStatus is one node as the nodes table and the store-and-forward
// queue show it (Nodes): what `cardswitch cluster status` prints, and what
// a status page may read.
type NodeStatus struct {
	Node      string    `json:"node"`
	Heartbeat time.Time `json:"heartbeat"` // its last heartbeat, by its own clock
	Started   time.Time `json:"started"`   // its first heartbeat since the row was made
	// Live: the last heartbeat is within the lease of the reader's clock
	// (PGOptions.Lease); past it, the live nodes take the node's messages.
	Live        bool           `json:"live"`
	ConfigHash  string         `json:"config_hash"`
	RoutingHash string         `json:"routing_hash"`
	Links       map[string]int `json:"links"` // live links by issuer, as of its last heartbeat
	// Owed counts the reversals and advices stored by the node and not
	// yet acknowledged, counted now (the queue, not the heartbeat).
	Owed int `json:"owed"`
	// RoutingDiffers: its routing hash differs from the one most live
	// nodes have (from every other live node's when there is no majority).
	RoutingDiffers bool `json:"routing_differs"`
}

// Nodes lists every node that has ever beaten in this database, by name,
// with what its last heartbeat said and its messages owed now.
func (p *PG) Nodes(ctx context.Context) ([]NodeStatus, error) {
	rows, err := p.pool.Query(ctx, `SELECT n.node, n.heartbeat_ns, n.started_ns, n.config_hash, n.routing_hash,
		n.links, (SELECT count(*) FROM reversals r WHERE r.node = n.node) FROM nodes n ORDER BY n.node`)
	if err != nil {
		return nil, fmt.Errorf("journal: nodes: %w", err)
	}
	now := time.Now()
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NodeStatus, error) {
		var n NodeStatus
		var hb, started int64
		var links string
		err := r.Scan(&n.Node, &hb, &started, &n.ConfigHash, &n.RoutingHash, &links, &n.Owed)
		n.Heartbeat, n.Started = time.Unix(0, hb), time.Unix(0, started)
		n.Live = now.Sub(n.Heartbeat) < p.opt.Lease
		n.Links = map[string]int{}
		if err == nil && links != "" {
			err = json.Unmarshal([]byte(links), &n.Links)
		}
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("journal: nodes: %w", err)
	}
	flagRouting(out)
	return out, nil
}

// flagRouting marks the nodes whose routing hash is not the live nodes'
// majority's. Without a strict majority (two live nodes that differ) each
// live node with another's hash is marked; a dead node is marked when it
// differs from the majority. Nodes that report no hash are left out.
func flagRouting(ns []NodeStatus) {
	count := map[string]int{}
	for _, n := range ns {
		if n.Live && n.RoutingHash != "" {
			count[n.RoutingHash]++
		}
	}
	major, best, tie := "", 0, false
	for h, c := range count {
		switch {
		case c > best:
			major, best, tie = h, c, false
		case c == best:
			tie = true
		}
	}
	for i := range ns {
		h := ns[i].RoutingHash
		ns[i].RoutingDiffers = h != "" && (tie || (major != "" && h != major))
	}
}

// reportJSON is the links of r as the nodes table keeps them.
func reportJSON(r NodeReport) string {
	if len(r.Links) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(r.Links) // a map of ints always marshals
	return string(b)
}
