package grafana

import (
	"encoding/json"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/switch/metrics"
)

// exported maps each series name switch/metrics exports to its family
// (a histogram exports _bucket, _sum and _count).
func exported() map[string]string {
	out := map[string]string{}
	for _, f := range metrics.Families() {
		out[f.Name] = f.Name
		if f.Type == metrics.Histogram {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				out[f.Name+s] = f.Name
			}
		}
	}
	return out
}

// queries walks the dashboard and returns every "expr" string and every
// templating "definition", keyed by a path for error messages.
func queries(t *testing.T) map[string]string {
	t.Helper()
	var doc any
	require.NoError(t, json.Unmarshal(Dashboard, &doc))
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if s, ok := c.(string); ok && (k == "expr" || k == "definition") {
					out[path+"."+k] = s
				}
				walk(path+"."+k, c)
			}
		case []any:
			for i, c := range v {
				walk(path+"["+strconv.Itoa(i)+"]", c)
			}
		}
	}
	walk("$", doc)
	return out
}

func TestDashboardUsesOnlyRegisteredMetrics(t *testing.T) {
	known := exported()
	qs := queries(t)
	require.NotEmpty(t, qs)
	used := map[string]bool{}
	for path, q := range qs {
		names := metricNames(q)
		assert.NotEmpty(t, names, "%s selects no metric: %s", path, q)
		for _, n := range names {
			fam, ok := known[n]
			assert.True(t, ok, "%s uses %q, which switch/metrics does not register", path, n)
			used[fam] = true
		}
	}
	var unused []string
	for _, f := range metrics.Families() {
		if !used[f.Name] {
			unused = append(unused, f.Name)
		}
	}
	sort.Strings(unused)
	assert.Empty(t, unused, "metrics without a panel")
}

func TestDashboardShape(t *testing.T) {
	var d struct {
		UID    string `json:"uid"`
		Inputs []struct {
			Name string `json:"name"`
		} `json:"__inputs"`
		Panels []struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource *struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr       string `json:"expr"`
				Datasource struct {
					UID string `json:"uid"`
				} `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(Dashboard, &d))
	assert.Equal(t, "cardswitch", d.UID)
	require.Len(t, d.Inputs, 1)
	assert.Equal(t, "DS_PROMETHEUS", d.Inputs[0].Name)

	ids := map[int]bool{}
	for _, p := range d.Panels {
		assert.False(t, ids[p.ID], "duplicate panel id %d", p.ID)
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		require.NotNil(t, p.Datasource, p.Title)
		assert.Equal(t, "${DS_PROMETHEUS}", p.Datasource.UID, p.Title)
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			assert.Equal(t, "${DS_PROMETHEUS}", tg.Datasource.UID, p.Title)
		}
	}
}

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`cardswitch_acquirer_connections`, []string{"cardswitch_acquirer_connections"}},
		{`sum by (code) (rate(cardswitch_requests_total{issuer=~"$issuer"}[$__rate_interval]))`,
			[]string{"cardswitch_requests_total"}},
		{`histogram_quantile(0.99, sum by (issuer, le) (rate(x_bucket{mti="not_a_metric"}[5m])))`, []string{"x_bucket"}},
		{`sum(rate(a_total{code=~"00|10"}[1m])) / sum without (mti) (rate(b_total[1m]))`, []string{"a_total", "b_total"}},
		{`count(max by (issuer) (up_metric) == 0) or vector(0)`, []string{"up_metric"}},
		{`a_total offset 5m and on (issuer) group_left (endpoint) b_total`, []string{"a_total", "b_total"}},
		{`label_values(cardswitch_issuer_link_up, issuer)`, []string{"cardswitch_issuer_link_up"}},
		{`label_values(cardswitch_issuer_link_up{issuer!=""}, endpoint)`, []string{"cardswitch_issuer_link_up"}},
		{`rate(x[1m]) > 1e3`, []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			assert.Equal(t, tt.want, metricNames(tt.expr))
		})
	}
}
