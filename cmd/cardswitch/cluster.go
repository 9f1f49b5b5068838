package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/spf13/cobra"
)

// newCluster groups the commands about the nodes sharing a PostgreSQL
// journal.
func newCluster() *cobra.Command {
	c := &cobra.Command{
		Use:   "cluster",
		Short: "The switch nodes sharing a PostgreSQL journal",
	}
	c.AddCommand(newClusterStatus())
	return c
}

func newClusterStatus() *cobra.Command {
	var cfgPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List the nodes: last heartbeat, live links per issuer, messages owed; flag a node that routes differently",
		Long: `List the nodes sharing the PostgreSQL journal that --config names (journal.postgres,
cluster.lease), or, without --config, CARDSWITCH_JOURNAL_POSTGRES: each node's last heartbeat
and its age, whether it is live (a heartbeat within cluster.lease), its live links per issuer
(as of that heartbeat), the reversals and advices it owes (now), and its routing hash. A node
whose routing hash differs from the live nodes' majority is flagged DIFFERS.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dsn, lease, err := clusterJournal(cfgPath)
			if err != nil {
				return err
			}
			p, err := journal.OpenPG(cmd.Context(), dsn, journal.PGOptions{Node: "status", ReadOnly: true, Lease: lease})
			if err != nil {
				return err
			}
			defer p.Close()
			nodes, err := p.Nodes(cmd.Context())
			if err != nil {
				return err
			}
			now := time.Now()
			if asJSON {
				return clusterWriteJSON(cmd.OutOrStdout(), nodes, now)
			}
			return clusterWriteTable(cmd.OutOrStdout(), nodes, now)
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "a node's config file: use its journal.postgres and cluster.lease")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object: {\"nodes\": [...]}")
	return cmd
}

// clusterJournal is the DSN and lease the status reads with: the config
// file's (environment overrides included), else CARDSWITCH_JOURNAL_POSTGRES
// and cluster.lease's default (or CARDSWITCH_CLUSTER_LEASE).
func clusterJournal(cfgPath string) (string, time.Duration, error) {
	if cfgPath != "" {
		cfg, err := loadConfig(cfgPath)
		if err != nil {
			return "", 0, err
		}
		if cfg.Journal.Postgres == "" {
			return "", 0, fmt.Errorf("%s: journal.postgres is not set: the nodes share no journal", cfgPath)
		}
		return cfg.Journal.Postgres, cfg.Cluster.Lease, nil
	}
	env := config.EnvName("journal.postgres")
	dsn := os.Getenv(env)
	if dsn == "" {
		return "", 0, errors.New("no journal: give --config FILE (with journal.postgres) or set " + env)
	}
	lease := config.DefaultClusterLease
	if s := os.Getenv(config.EnvName("cluster.lease")); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return "", 0, fmt.Errorf("%s=%q: want a duration such as 15s", config.EnvName("cluster.lease"), s)
		}
		lease = d
	}
	return dsn, lease, nil
}

func clusterWriteJSON(w io.Writer, nodes []journal.NodeStatus, now time.Time) error {
	type node struct {
		journal.NodeStatus
		AgeMS int64 `json:"heartbeat_age_ms"`
	}
	out := struct {
		Nodes []node `json:"nodes"`
	}{Nodes: make([]node, 0, len(nodes))}
	for _, n := range nodes {
		out.Nodes = append(out.Nodes, node{NodeStatus: n, AgeMS: now.Sub(n.Heartbeat).Milliseconds()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func clusterWriteTable(w io.Writer, nodes []journal.NodeStatus, now time.Time) error {
	if len(nodes) == 0 {
		_, err := fmt.Fprintln(w, "no node has written a heartbeat in this database")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tHEARTBEAT\tSTATE\tOWED\tLINKS\tROUTING\tCONFIG\t")
	var differ []string
	for _, n := range nodes {
		state, flag := "live", ""
		if !n.Live {
			state = "DEAD"
		}
		if n.RoutingDiffers {
			flag, differ = "  DIFFERS", append(differ, n.Node)
		}
		fmt.Fprintf(tw, "%s\t%s ago\t%s\t%d\t%s\t%s%s\t%s\t\n", n.Node, now.Sub(n.Heartbeat).Round(100*time.Millisecond),
			state, n.Owed, clusterLinks(n.Links), short12(n.RoutingHash), flag, short12(n.ConfigHash))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(differ) > 0 {
		_, err := fmt.Fprintf(w, "routing differs: %s (its routes are not the other live nodes'; compare the config files)\n",
			strings.Join(differ, ", "))
		return err
	}
	return nil
}

// clusterLinks is "issuer=n" by issuer name, "-" for none.
func clusterLinks(links map[string]int) string {
	if len(links) == 0 {
		return "-"
	}
	names := make([]string, 0, len(links))
	for k := range links {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s=%d", k, links[k])
	}
	return strings.Join(parts, ",")
}

func short12(h string) string {
	if h == "" {
		return "-"
	}
	return h[:min(12, len(h))]
}
