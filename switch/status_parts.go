package switchd

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/cardswitch/cardswitch/switch/admin"
)

// queueStater is a journal that counts its queues per issuer (both
// backends do; the switch's tests' stores may not).
type queueStater interface {
	QueueByIssuer(ctx context.Context) (map[string]journal.IssuerQueue, error)
}

// statusQueryTimeout bounds each journal read behind one status answer.
const statusQueryTimeout = 2 * time.Second

// queuesByIssuer reads the stored messages owed per issuer; none without
// a journal, or when the read fails (logged).
func (s *Switch) queuesByIssuer() map[string]StatusQueues {
	out := map[string]StatusQueues{}
	qs, ok := s.jrnl.(queueStater)
	if s.jrnl == nil || !ok {
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), statusQueryTimeout)
	defer cancel()
	m, err := qs.QueueByIssuer(ctx)
	if err != nil {
		s.log.Warn("status: cannot read the queues", "err", err)
		return out
	}
	for name, q := range m {
		sq := StatusQueues{Reversals: q.Reversals, Advices: q.Advices}
		if !q.Oldest.IsZero() {
			age := time.Since(q.Oldest).Seconds()
			sq.OldestAgeSeconds = &age
		}
		out[name] = sq
	}
	return out
}

// StatusCluster is the nodes sharing the PostgreSQL journal.
type StatusCluster struct {
	Nodes []StatusNode `json:"nodes"`
}

// StatusNode is one node: its last heartbeat and the configuration it
// runs (null when the journal does not record it).
type StatusNode struct {
	Node       string    `json:"node"`
	Heartbeat  time.Time `json:"heartbeat"`
	ConfigHash *string   `json:"config_hash"`
	Differs    bool      `json:"differs"`
	Self       bool      `json:"self"`
}

// nodeLister is the PostgreSQL journal's nodes table.
type nodeLister interface {
	Nodes(ctx context.Context) ([]journal.Node, error)
}

// statusCluster lists the nodes when the journal is on PostgreSQL; nil
// otherwise.
func (s *Switch) statusCluster(ctx context.Context, cfg *config.Config) *StatusCluster {
	nl, ok := s.jrnl.(nodeLister)
	if s.jrnl == nil || !ok || cfg.Journal.Postgres == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, statusQueryTimeout)
	defer cancel()
	nodes, err := nl.Nodes(ctx)
	if err != nil {
		s.log.Warn("status: cannot read the cluster's nodes", "err", err)
		return &StatusCluster{Nodes: []StatusNode{}}
	}
	out := &StatusCluster{Nodes: []StatusNode{}}
	for _, n := range nodes {
		sn := StatusNode{Node: n.Node, Heartbeat: n.Heartbeat.UTC(), Self: n.Node == cfg.Cluster.Node}
		if n.ConfigHash != "" {
			h := n.ConfigHash
			sn.ConfigHash, sn.Differs = &h, h != cfg.Hash
		}
		out.Nodes = append(out.Nodes, sn)
	}
	return out
}

// reloadHistorySize is how many reloads the status page lists.
const reloadHistorySize = 20

// ReloadRecord is one reload as the status page lists it.
type ReloadRecord struct {
	At    time.Time `json:"at"`
	Hash  string    `json:"hash"`
	OK    bool      `json:"ok"`
	Error string    `json:"error"`
	Diff  []string  `json:"diff"`
}

// reloadHistory keeps the last reloads since the start, in memory.
type reloadHistory struct {
	mu   sync.Mutex
	last []ReloadRecord // oldest first
}

// add records a reload's outcome (res and err from Reload or Apply).
func (h *reloadHistory) add(at time.Time, res ReloadResult, err error) {
	rec := ReloadRecord{At: at.UTC(), Hash: res.Hash, OK: err == nil, Diff: []string{}}
	if err != nil {
		rec.Error = err.Error()
	}
	for _, line := range strings.Split(res.Diff, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			rec.Diff = append(rec.Diff, line)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = append(h.last, rec)
	if len(h.last) > reloadHistorySize {
		h.last = append(h.last[:0], h.last[1:]...)
	}
}

// list returns the reloads newest first.
func (h *reloadHistory) list() []ReloadRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]ReloadRecord, 0, len(h.last))
	for i := len(h.last) - 1; i >= 0; i-- {
		out = append(out, h.last[i])
	}
	return out
}

// StatusTxn is one finished transaction as GET /status/transactions
// lists it: the PAN masked.
type StatusTxn struct {
	Time      time.Time `json:"time"`
	Node      string    `json:"node"`
	Acquirer  string    `json:"acquirer"`
	Issuer    string    `json:"issuer"`
	MTI       string    `json:"mti"`
	PAN       string    `json:"pan"`
	STAN      string    `json:"stan"`
	RRN       string    `json:"rrn"`
	Amount    string    `json:"amount"`
	Code      string    `json:"code"`
	Outcome   string    `json:"outcome"`
	LatencyMs float64   `json:"latency_ms"`
}

// StatusTxns is GET /status/transactions.
type StatusTxns struct {
	Transactions []StatusTxn `json:"transactions"`
}

// outcomes are the outcomes a filter may name: the journal's.
var outcomes = map[string]bool{}

func init() {
	for _, o := range []journal.Outcome{journal.Approved, journal.Declined, journal.SwitchDeclined,
		journal.TimedOut, journal.Late, journal.Reversed, journal.Duplicate, journal.Unmatched,
		journal.StandIn, journal.Advised} {
		outcomes[string(o)] = true
	}
}

// Transactions implements admin.Status.
func (a statusAPI) Transactions(f admin.TxnFilter) (any, error) {
	if f.Outcome != "" && !outcomes[f.Outcome] {
		return nil, &admin.ParamError{Param: "outcome",
			Msg: "one of approved, declined, switch-declined, timed-out, late, reversed, duplicate, unmatched, stand-in, advised"}
	}
	return a.s.Transactions(f), nil
}

// Transactions lists the last finished transactions that match f, newest
// first.
func (s *Switch) Transactions(f admin.TxnFilter) StatusTxns {
	node := s.live().Cluster.Node
	out := StatusTxns{Transactions: []StatusTxn{}}
	s.ring.each(func(r *txnRecord) bool {
		code := string(r.code[:r.codeN])
		if (f.Issuer != "" && r.issuer != f.Issuer) || (f.Code != "" && code != f.Code) ||
			(f.Outcome != "" && string(r.outcome) != f.Outcome) {
			return true
		}
		out.Transactions = append(out.Transactions, StatusTxn{Time: r.at.UTC(), Node: node, Acquirer: r.acquirer,
			Issuer: r.issuer, MTI: string(r.mti[:r.mtiN]), PAN: string(r.pan[:r.panN]), STAN: string(r.stan[:r.stanN]),
			RRN: string(r.rrn[:r.rrnN]), Amount: string(r.amount[:r.amountN]), Code: code,
			Outcome: string(r.outcome), LatencyMs: float64(r.latency.Microseconds()) / 1000})
		return len(out.Transactions) < f.Limit
	})
	return out
}

// StatusLookup is POST /status/lookup: where a PAN or BIN routes, as
// `cardswitch routes lookup` prints it.
type StatusLookup struct {
	Input       string       `json:"input"` // the PAN masked
	BIN         string       `json:"bin"`
	Issuer      string       `json:"issuer"` // "": no route
	Why         string       `json:"why"`
	Rule        *LookupRule  `json:"rule"` // the winning rule; null under default_issuer or no route
	Others      []LookupRule `json:"others"`
	IssuerState string       `json:"issuer_state,omitempty"`
}

// LookupRule is a rule that covers the PAN; Why says why it lost.
type LookupRule struct {
	Index  int    `json:"index"` // in routes[]
	BIN    string `json:"bin"`
	Issuer string `json:"issuer"`
	Why    string `json:"why,omitempty"`
}

// Lookup implements admin.Status.
func (a statusAPI) Lookup(pan []byte) any { return a.s.Lookup(pan) }

// Lookup explains where pan routes with the table in force
// (routing.Table.Explain, as `cardswitch routes lookup`).
func (s *Switch) Lookup(pan []byte) StatusLookup {
	snap := s.routes.Load()
	e := snap.table.Explain(pan)
	out := StatusLookup{Input: e.PAN, BIN: string(pan[:min(len(pan), 6)]), Why: e.Reason, Others: []LookupRule{}}
	if e.Found {
		out.Issuer = e.Match.Issuer
	}
	for i, c := range e.Candidates {
		r := LookupRule{Index: c.Rule, BIN: c.BIN, Issuer: c.Issuer, Why: c.Lost}
		if i == 0 {
			out.Rule = &r
			continue
		}
		out.Others = append(out.Others, r)
	}
	for _, is := range snap.issuers {
		if is.Name == out.Issuer {
			links := []StatusLink{}
			for _, l := range is.Links() {
				links = append(links, statusLink(l))
			}
			out.IssuerState = issuerState(is.Offline(), links)
		}
	}
	return out
}
