// Package grafana holds the cardswitch Grafana dashboard (cardswitch.json,
// a dashboard JSON model whose data source is the ${DS_PROMETHEUS} input)
// and the test that keeps its queries in step with switch/metrics.
//
// Import the file in Grafana (Dashboards > New > Import) and pick the
// Prometheus data source that scrapes the switch's admin /metrics.
package grafana

import _ "embed"

// Dashboard is cardswitch.json, embedded for tools that install it.
//
//go:embed cardswitch.json
var Dashboard []byte
