package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/spf13/cobra"
)

const (
	// defaultAdminAddr is where the embedded default config serves admin.
	defaultAdminAddr = "127.0.0.1:8080"
	// showTimeout bounds the whole GET: the admin listener answers from
	// memory, so a slow answer means something is wrong.
	showTimeout = 30 * time.Second
	// maxErrorBody caps how much of a failed answer goes into the error.
	maxErrorBody = 512
)

// newRoutesShow is `cardswitch routes show --admin ADDR`: the routing table
// a running switch uses, from GET /admin/routes.
func newRoutesShow() *cobra.Command {
	var admin adminClient
	var raw bool
	cmd := &cobra.Command{
		Use:   "show [--admin ADDR] [--token-file FILE] [--json]",
		Short: "Show the routing table a running switch uses, with its issuers' link states",
		Long: `Asks a running switch's admin listener (GET /admin/routes) for the routing
table in force and prints its content hash and load time, the rules sorted by
BIN, and each issuer with the state of its links. --json prints the answer as is.
A switch with admin.token_file needs its token: --token-file FILE, or the file
named by $` + adminTokenEnv + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := fetchRoutes(cmd.Context(), &admin)
			if err != nil {
				return err
			}
			if raw {
				_, err = cmd.OutOrStdout().Write(body)
				return err
			}
			var r switchd.Routes
			if err := json.Unmarshal(body, &r); err != nil {
				return fmt.Errorf("routes show: %s/admin/routes: not a routes answer: %w", adminURL(admin.addr), err)
			}
			return printRoutes(cmd.OutOrStdout(), r)
		},
	}
	admin.addFlags(cmd)
	cmd.Flags().BoolVar(&raw, "json", false, "print the raw JSON answer")
	return cmd
}

// fetchRoutes GETs /admin/routes and returns the body of a 200 answer.
func fetchRoutes(ctx context.Context, admin *adminClient) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, showTimeout)
	defer cancel()
	body, err := admin.get(ctx, "/admin/routes")
	if err != nil {
		return nil, fmt.Errorf("routes show: %w", err)
	}
	return body, nil
}

// printRoutes writes r as tables: what is in force first, then the rules
// sorted by BIN, then the issuers with one line per link.
func printRoutes(w io.Writer, r switchd.Routes) error {
	def := r.DefaultIssuer
	if def == "" {
		def = "(none: PANs no rule matches are declined with 15)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "hash       %s\nloaded at  %s\nsource     %s\ndefault    %s\n\n",
		r.Hash, r.LoadedAt.Format(time.RFC3339), r.Source, def)
	writeRules(&b, r.Rules)
	b.WriteByte('\n')
	writeIssuers(&b, r.Issuers)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeRules pads by hand rather than with tabwriter: a table can hold
// hundreds of thousands of rules, and the widest BIN is known up front.
func writeRules(b *strings.Builder, rules []switchd.RouteRule) {
	sorted := slices.Clone(rules)
	slices.SortFunc(sorted, func(x, y switchd.RouteRule) int { return strings.Compare(x.BIN, y.BIN) })
	width := len("BIN")
	for _, rule := range sorted {
		width = max(width, len(rule.BIN))
	}
	fmt.Fprintf(b, "%-*s  %s\n", width, "BIN", "ISSUER")
	for _, rule := range sorted {
		fmt.Fprintf(b, "%-*s  %s\n", width, rule.BIN, rule.Issuer)
	}
	fmt.Fprintf(b, "(%d rules)\n", len(rules))
}

// writeIssuers prints one line per link; the issuer's own columns only on
// its first.
func writeIssuers(b *strings.Builder, issuers []switchd.IssuerState) {
	rows := [][]string{{"ISSUER", "TIMEOUT", "IN FLIGHT", "LINK", "STATE", "LINK IN FLIGHT"}}
	for _, is := range issuers {
		name := is.Name
		if is.Offline {
			name += " (offline)"
		}
		head := []string{name, is.Timeout, fmt.Sprint(is.InFlight)}
		if len(is.Links) == 0 {
			rows = append(rows, append(head, "-", "-", "-"))
		}
		for i, l := range is.Links {
			if i > 0 {
				head = []string{"", "", ""}
			}
			state := "down"
			if l.Up {
				state = "up"
			}
			rows = append(rows, append(head, linkName(is.Links, l), state, fmt.Sprint(l.InFlight)))
		}
	}
	writeColumns(b, rows)
}

// linkName is l's endpoint, with "#conn" when the issuer keeps several
// links to it (issuers[].connections).
func linkName(links []switchd.LinkState, l switchd.LinkState) string {
	n := 0
	for _, o := range links {
		if o.Endpoint == l.Endpoint {
			n++
		}
	}
	if n > 1 {
		return fmt.Sprintf("%s#%d", l.Endpoint, l.Conn)
	}
	return l.Endpoint
}

// writeColumns left-aligns rows in columns two spaces apart.
func writeColumns(b *strings.Builder, rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len(cell))
		}
	}
	for _, row := range rows {
		line := ""
		for i, cell := range row {
			line += fmt.Sprintf("%-*s  ", widths[i], cell)
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
}
