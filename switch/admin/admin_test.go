package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cardswitch/cardswitch/switch/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeBackend is a Backend whose answers the test sets.
type fakeBackend struct {
	mu        sync.Mutex
	ready     bool
	why       string
	routes    any
	result    any
	err       error
	reloading chan struct{} // when set, Reload signals it and waits for release
	release   chan struct{}
	deadline  bool // whether the last Reload context had a deadline
	reloads   int  // how many times Reload ran
}

func (f *fakeBackend) Ready() (bool, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready, f.why
}

func (f *fakeBackend) Routes() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.routes
}

func (f *fakeBackend) Reload(ctx context.Context) (any, error) {
	f.mu.Lock()
	f.reloads++
	_, f.deadline = ctx.Deadline()
	reloading, release := f.reloading, f.release
	f.mu.Unlock()
	if reloading != nil {
		close(reloading)
		<-release
	}
	return f.result, f.err
}

// problemsError is a validation error listing several problems.
type problemsError struct{ lines []string }

func (e *problemsError) Error() string   { return fmt.Sprintf("config: %d problems", len(e.lines)) }
func (e *problemsError) Lines() []string { return e.lines }

// start runs a Server on loopback and stops it when the test ends,
// checking that Serve returned nil.
func start(t *testing.T, b Backend, m http.Handler, lim limits) *Server {
	t.Helper()
	return startOn(t, "127.0.0.1:0", Access{}, b, m, lim)
}

// startOn is start with an address and an Access.
func startOn(t *testing.T, addr string, acc Access, b Backend, m http.Handler, lim limits) *Server {
	t.Helper()
	s, err := newServer(addr, acc, b, m, nil, lim)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		require.NoError(t, s.Close(context.Background()))
		require.NoError(t, <-done)
	})
	return s
}

type reply struct {
	status int
	ctype  string
	allow  string
	body   string
}

func do(t *testing.T, s *Server, method, path string) reply {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, err := http.NewRequest(method, "http://"+s.Addr()+path, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Allow"), string(body)}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		name         string
		backend      *fakeBackend
		method, path string
		want         reply
	}{
		{"healthz", &fakeBackend{}, "GET", "/healthz",
			reply{200, "text/plain; charset=utf-8", "", "ok"}},
		{"ready", &fakeBackend{ready: true}, "GET", "/readyz",
			reply{200, "text/plain; charset=utf-8", "", "ready"}},
		{"not ready", &fakeBackend{why: "no issuer link up"}, "GET", "/readyz",
			reply{503, "text/plain; charset=utf-8", "", "no issuer link up"}},
		{"not ready without reason", &fakeBackend{}, "GET", "/readyz",
			reply{503, "text/plain; charset=utf-8", "", "not ready"}},
		{"routes", &fakeBackend{routes: map[string]string{"4111": "bank-a"}}, "GET", "/admin/routes",
			reply{200, "application/json", "", "{\n  \"4111\": \"bank-a\"\n}\n"}},
		{"routes not marshalable", &fakeBackend{routes: make(chan int)}, "GET", "/admin/routes",
			reply{500, "text/plain; charset=utf-8", "", "internal error: response not marshalable"}},
		{"reload ok", &fakeBackend{result: map[string]int{"rules": 3}}, "POST", "/admin/reload",
			reply{200, "application/json", "", "{\n  \"rules\": 3\n}\n"}},
		{"reload plain error", &fakeBackend{err: errors.New("read testdata/x.yaml: no such file")}, "POST", "/admin/reload",
			reply{422, "application/json", "", "{\n  \"error\": \"read testdata/x.yaml: no such file\"\n}\n"}},
		{"reload problems", &fakeBackend{err: fmt.Errorf("reload: %w", &problemsError{[]string{"a.yaml: routes[0].bin: not digits", "a.yaml: issuers: empty"}})}, "POST", "/admin/reload",
			reply{422, "application/json", "", "{\n  \"error\": \"reload: config: 2 problems\",\n  \"problems\": [\n    \"a.yaml: routes[0].bin: not digits\",\n    \"a.yaml: issuers: empty\"\n  ]\n}\n"}},
		{"reload with GET", &fakeBackend{}, "GET", "/admin/reload",
			reply{405, "text/plain; charset=utf-8", "POST", "Method Not Allowed\n"}},
		{"healthz with POST", &fakeBackend{}, "POST", "/healthz",
			reply{405, "text/plain; charset=utf-8", "GET, HEAD", "Method Not Allowed\n"}},
		{"routes with DELETE", &fakeBackend{}, "DELETE", "/admin/routes",
			reply{405, "text/plain; charset=utf-8", "GET, HEAD", "Method Not Allowed\n"}},
		{"metrics not configured", &fakeBackend{}, "GET", "/metrics",
			reply{404, "text/plain; charset=utf-8", "", "404 page not found\n"}},
		{"unknown path", &fakeBackend{}, "GET", "/admin", reply{404, "text/plain; charset=utf-8", "", "404 page not found\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, tt.backend, nil, defaultLimits)
			assert.Equal(t, tt.want, do(t, s, tt.method, tt.path))
		})
	}
}

func TestMetricsEndpoint(t *testing.T) {
	m := metrics.New()
	m.Reload(true)
	s := start(t, &fakeBackend{}, m.Handler(), defaultLimits)

	r := do(t, s, "GET", "/metrics")
	assert.Equal(t, 200, r.status)
	assert.Contains(t, r.body, `cardswitch_config_reloads_total{result="ok"} 1`)
	assert.Equal(t, 405, do(t, s, "POST", "/metrics").status)
}

func TestReloadGetsDeadline(t *testing.T) {
	b := &fakeBackend{result: "ok"}
	s := start(t, b, nil, defaultLimits)
	require.Equal(t, 200, do(t, s, "POST", "/admin/reload").status)
	b.mu.Lock()
	defer b.mu.Unlock()
	assert.True(t, b.deadline, "Reload's context should carry the reload timeout")
}

func TestReloadOneAtATime(t *testing.T) {
	b := &fakeBackend{result: "ok", reloading: make(chan struct{}), release: make(chan struct{})}
	s := start(t, b, nil, defaultLimits)

	first := make(chan reply, 1)
	go func() { first <- do(t, s, "POST", "/admin/reload") }()
	<-b.reloading

	second := do(t, s, "POST", "/admin/reload")
	assert.Equal(t, reply{409, "application/json", "", "{\n  \"error\": \"a reload is already in progress\"\n}\n"}, second)

	close(b.release)
	assert.Equal(t, 200, (<-first).status)
}

// A client that never finishes its headers is disconnected.
func TestSlowHeadersAreCut(t *testing.T) {
	lim := defaultLimits
	lim.readHeader = 50 * time.Millisecond
	s := start(t, &fakeBackend{}, nil, lim)

	conn, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n"))
	require.NoError(t, err)
	// The read ends when the server gives up on the headers: with EOF, or
	// after a 408 it writes first.
	rest, err := io.ReadAll(bufio.NewReader(conn))
	require.NoError(t, err)
	assert.NotContains(t, string(rest), "200 OK")
}

func TestCloseBeforeServe(t *testing.T) {
	s, err := New("127.0.0.1:0", Access{}, &fakeBackend{}, nil, nil)
	require.NoError(t, err)
	require.NoError(t, s.Close(context.Background()))
	assert.NoError(t, s.Serve())
	_, err = net.Dial("tcp", s.Addr())
	assert.Error(t, err, "the listener should be closed")
}

func TestCloseGivesUpWhenContextEnds(t *testing.T) {
	b := &fakeBackend{result: "ok", reloading: make(chan struct{}), release: make(chan struct{})}
	s, err := New("127.0.0.1:0", Access{}, b, nil, nil)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()

	go func() {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Post("http://"+s.Addr()+"/admin/reload", "", nil)
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-b.reloading

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, s.Close(ctx), context.Canceled)
	require.NoError(t, <-done)
	close(b.release)
}

func TestNewErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()

	_, err = New(ln.Addr().String(), Access{}, &fakeBackend{}, nil, nil)
	var le *ListenError
	require.ErrorAs(t, err, &le)
	assert.True(t, strings.HasPrefix(err.Error(), "admin: listen on "+ln.Addr().String()+": "), err.Error())

	_, err = New("127.0.0.1:0", Access{}, nil, nil, nil)
	assert.EqualError(t, err, "admin: nil Backend")
}

func TestRoutesJSONIsValid(t *testing.T) {
	type rule struct {
		BIN    string `json:"bin"`
		Issuer string `json:"issuer"`
	}
	s := start(t, &fakeBackend{routes: []rule{{"4111", "bank-a"}, {"5555", "bank-b"}}}, nil, defaultLimits)
	var got []rule
	require.NoError(t, json.Unmarshal([]byte(do(t, s, "GET", "/admin/routes").body), &got))
	assert.Equal(t, []rule{{"4111", "bank-a"}, {"5555", "bank-b"}}, got)
}
