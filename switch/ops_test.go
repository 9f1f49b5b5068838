package switchd_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// opsRun runs a switch on an already loaded config (its listen address
// forced to a free port) with the test logger; opts come after, so a test
// may replace the logger or the limits.
func opsRun(t testing.TB, cfg *config.Config, opts ...switchd.Option) *running {
	t.Helper()
	cfg.Listen.Address = "127.0.0.1:0"
	opts = append([]switchd.Option{switchd.WithLogger(testLog(t)), switchd.WithWatch(false)}, opts...)
	sw, err := switchd.New(cfg, opts...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Switch: sw, addr: sw.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- sw.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

func opsLoad(t testing.TB, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.LoadBytes(t.Name()+".yaml", []byte(yaml))
	require.NoError(t, err)
	return cfg
}

// opsWaitUp waits until issuer name has at least one live link.
func opsWaitUp(t testing.TB, sw *running, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, sw.WaitIssuer(ctx, name, atLeast(1)), "issuer %s never came up", name)
}

// opsHTTP makes one admin request without keep-alive, so no client
// goroutine outlives the test (goleak).
func opsHTTP(t testing.TB, method, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// opsScrape returns the /metrics exposition of a switch with an admin listener.
func opsScrape(t testing.TB, sw *running) string {
	t.Helper()
	code, body := opsHTTP(t, http.MethodGet, "http://"+sw.AdminAddr()+"/metrics")
	require.Equal(t, http.StatusOK, code)
	return body
}

// opsMetric finds the sample of name whose labels are exactly labels (nil:
// none) in a text exposition.
func opsMetric(body, name string, labels map[string]string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		got := map[string]string{}
		if strings.HasPrefix(rest, "{") {
			end := strings.Index(rest, "}")
			for _, kv := range strings.Split(rest[1:end], ",") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					got[k] = strings.Trim(v, `"`)
				}
			}
			rest = rest[end+1:]
		}
		if len(got) != len(labels) {
			continue
		}
		match := true
		for k, v := range labels {
			match = match && got[k] == v
		}
		if !match {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		return f, err == nil
	}
	return 0, false
}

func opsRequireMetric(t testing.TB, body, name string, labels map[string]string, want float64) {
	t.Helper()
	got, ok := opsMetric(body, name, labels)
	require.True(t, ok, "no sample %s%v in:\n%s", name, labels, body)
	assert.Equal(t, want, got, "%s%v", name, labels)
}

func opsYAML(endpoint string) string {
	return "admin: {address: 127.0.0.1:0}\nissuers:\n" + issuerYAML("bank", "5s", endpoint) +
		"routes:\n  - {bin: \"4\", issuer: bank}\n"
}

// Health, readiness, metrics after traffic, and the reload counter.
func TestMetricsAndHealth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switch.yaml")
	require.NoError(t, os.WriteFile(path, []byte(opsYAML(deadAddr(t))), 0o600))
	cfg, err := config.Load(path)
	require.NoError(t, err)
	sw := opsRun(t, cfg)
	base := "http://" + sw.AdminAddr()

	code, _ := opsHTTP(t, http.MethodGet, base+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	code, body := opsHTTP(t, http.MethodGet, base+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code, "no issuer link can be up: %s", body)

	// Point the issuer at a live simulator and reload the file.
	sim := startSim(t, config.Simulator{})
	require.NoError(t, os.WriteFile(path, []byte(opsYAML(sim.Addr())), 0o600))
	code, body = opsHTTP(t, http.MethodPost, base+"/admin/reload")
	require.Equal(t, http.StatusOK, code, body)
	opsWaitUp(t, sw, "bank")
	code, _ = opsHTTP(t, http.MethodGet, base+"/readyz")
	assert.Equal(t, http.StatusOK, code)

	c := dial(t, sw.addr)
	assert.Equal(t, "00", str(t, send(t, c, auth("4111111111111111", 100, 1)), 39))
	assert.Equal(t, "15", str(t, send(t, c, auth("6011000000000004", 100, 2)), 39))

	require.NoError(t, os.WriteFile(path, []byte("issuers: []\nroutes:\n  - {bin: \"4x\", issuer: nobody}\n"), 0o600))
	code, body = opsHTTP(t, http.MethodPost, base+"/admin/reload")
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	var failure struct {
		Error    string   `json:"error"`
		Problems []string `json:"problems"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &failure))
	assert.NotEmpty(t, failure.Problems, body)
	assert.Contains(t, body, "not all digits")

	m := opsScrape(t, sw)
	opsRequireMetric(t, m, "cardswitch_requests_total", map[string]string{"mti": "0100", "issuer": "bank", "code": "00"}, 1)
	opsRequireMetric(t, m, "cardswitch_requests_total", map[string]string{"mti": "0100", "issuer": "", "code": "15"}, 1)
	opsRequireMetric(t, m, "cardswitch_request_duration_seconds_count", nil, 2)
	opsRequireMetric(t, m, "cardswitch_request_duration_seconds_bucket", map[string]string{"le": "+Inf"}, 2)
	opsRequireMetric(t, m, "cardswitch_request_duration_seconds_bucket", map[string]string{"le": "10"}, 2)
	_, ok := opsMetric(m, "cardswitch_request_duration_seconds_bucket", map[string]string{"le": "0.0001"})
	assert.True(t, ok, "the finest latency bucket (100µs) is exposed")
	opsRequireMetric(t, m, "cardswitch_issuer_duration_seconds_count", map[string]string{"issuer": "bank"}, 1)
	opsRequireMetric(t, m, "cardswitch_issuer_link_up", map[string]string{"issuer": "bank", "endpoint": sim.Addr(), "conn": "1"}, 1)
	opsRequireMetric(t, m, "cardswitch_acquirer_connections", nil, 1)
	opsRequireMetric(t, m, "cardswitch_config_reloads_total", map[string]string{"result": "ok"}, 1)
	opsRequireMetric(t, m, "cardswitch_config_reloads_total", map[string]string{"result": "error"}, 1)

	// The bad file changed nothing: still ready, still approving.
	assert.Equal(t, "00", str(t, send(t, c, auth("4111111111111111", 100, 3)), 39))
	code, _ = opsHTTP(t, http.MethodGet, base+"/readyz")
	assert.Equal(t, http.StatusOK, code)
}
