package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// journalKind is --journal: which journal the switch runs with.
type journalKind string

const (
	journalSQLite   journalKind = "sqlite"
	journalPostgres journalKind = "postgres"
	journalOff      journalKind = "false"
)

// envPostgres names the database --journal postgres writes to (a
// throwaway one: the entries stay).
const envPostgres = "CARDSWITCH_JOURNAL_POSTGRES"

func (k *journalKind) String() string { return string(*k) }

// Set accepts the kinds and, as the flag was a boolean before, true and
// false.
func (k *journalKind) Set(s string) error {
	switch s {
	case "sqlite", "true":
		*k = journalSQLite
	case "postgres":
		*k = journalPostgres
	case "false", "off":
		*k = journalOff
	default:
		return fmt.Errorf("%q: want sqlite, postgres or false", s)
	}
	return nil
}

// checkNodes refuses a cluster without a shared journal, and postgres
// without its DSN.
func (c *config) checkNodes() error {
	switch {
	case c.nodes < 1:
		return fmt.Errorf("--nodes must be at least 1")
	case c.nodes > 1 && c.journal != journalPostgres:
		return fmt.Errorf("--nodes %d needs --journal postgres: nodes share their journal there", c.nodes)
	case c.journal == journalPostgres && os.Getenv(envPostgres) == "":
		return fmt.Errorf("--journal postgres needs %s (a DSN; the bench's entries stay in that database)", envPostgres)
	}
	return nil
}

// childJournalYAML is the journal (and cluster) part of a switch child's
// configuration, from its environment.
func childJournalYAML() (string, error) {
	dir := os.Getenv(envDir)
	switch journalKind(os.Getenv(envJournal)) {
	case journalOff:
		return "", nil
	case journalPostgres:
		key := filepath.Join(dir, "journal.key")
		if err := os.WriteFile(key, []byte(strings.Repeat("5a", 32)+"\n"), 0o600); err != nil {
			return "", err
		}
		return fmt.Sprintf("journal:\n  path: \"\"\n  postgres: '%s'\n  key_file: %s\n  spool: %s\ncluster:\n  node: %s\n",
			os.Getenv(envPostgres), key, filepath.Join(dir, "spool"), os.Getenv(envNode)), nil
	}
	return "journal:\n  path: " + filepath.Join(dir, "journal.db") + "\n  sync: " +
		cmp.Or(os.Getenv(envSync), "normal") + "\n", nil
}

// envNode names a switch child's cluster node.
const envNode = "CARDSWITCH_BENCH_NODE"

// nodes are the switch children of a run: one, or a cluster's nodes.
type nodes []*child

// targets are the nodes' addresses: the first, and the others the
// generator spreads its connections over.
func (n nodes) targets() (string, []string) {
	more := make([]string, 0, len(n)-1)
	for _, c := range n[1:] {
		more = append(more, c.addr)
	}
	return n[0].addr, more
}

// mark is every node's totals summed, and the postgres processes' CPU
// time when the journal is there.
func (n nodes) mark(pg bool) (marks, error) {
	var sum marks
	for _, c := range n {
		m, err := mark(c)
		if err != nil {
			return marks{}, err
		}
		sum.cpuNS += m.cpuNS
		sum.mallocs += m.mallocs
		sum.requests += m.requests
		sum.syscalls += m.syscalls
		sum.waits += m.waits
		sum.lag += m.lag
	}
	if pg {
		sum.pgCPUNS = postgresCPU()
	}
	return sum, nil
}

// postgresCPU is the user plus system CPU time (ns) of the processes named
// postgres on this machine (the server and its backends) so far: a backend
// that exits between two readings takes its time with it, so the bench's
// pooled connections stay open through a phase.
func postgresCPU() int64 {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, path := range dirs {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open || s[open+1:end] != "postgres" {
			continue
		}
		// After the comm: state is field 3, utime and stime 14 and 15.
		f := strings.Fields(s[end+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + st
	}
	return ticks * 1e9 / clockTicks
}

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat times (100
// on every architecture Go supports).
const clockTicks = 100

// ask sends cmd to every node and wants "ok" from each.
func (n nodes) ask(cmd string) error {
	for _, c := range n {
		if ans, err := c.ask(cmd); err != nil || ans != "ok" {
			return fmt.Errorf("switch %s: %s %v", cmd, ans, err)
		}
	}
	return nil
}
