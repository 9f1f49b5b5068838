package admin

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// fakeSims is a Simulators with one simulator per name.
type fakeSims struct {
	mu   sync.Mutex
	down map[string]bool
}

func (f *fakeSims) isDown(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down[name]
}

type simState struct {
	Name string `json:"name"`
	Down bool   `json:"down"`
}

func (f *fakeSims) SimulatorStates() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []simState{{"bank-a", f.down["bank-a"]}}
}

func (f *fakeSims) SetSimulatorDown(name string, down bool) (any, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.down[name]; !ok {
		return nil, false
	}
	f.down[name] = down
	return simState{name, down}, true
}

// /admin/simulators lists the simulators; POST .../{name}/down and /up
// set one's state and answer it; an unknown name is 404 naming it, other
// methods 405; with a token, none of it runs without the token.
func TestSimulatorEndpoints(t *testing.T) {
	sims := &fakeSims{down: map[string]bool{"bank-a": false}}
	s := startOn(t, "127.0.0.1:0", Access{Token: testToken}, &fakeBackend{}, nil, defaultLimits)
	auth := bearer(testToken)
	assert.Equal(t, answer{200, "", "[]\n"}, request(t, s, "GET", "/admin/simulators", "", auth), "none set")
	assert.Equal(t, 404, request(t, s, "POST", "/admin/simulators/bank-a/down", "", auth).status, "none set")
	s.SetSimulators(sims)

	for _, path := range []string{"/admin/simulators", "/admin/simulators/bank-a/down", "/admin/simulators/bank-a/up"} {
		assert.Equal(t, 401, request(t, s, "POST", path, "", nil).status, path)
		assert.Equal(t, 401, request(t, s, "GET", path, "", nil).status, path)
	}
	assert.False(t, sims.isDown("bank-a"), "nothing ran without the token")

	assert.Equal(t, answer{200, "", "{\n  \"name\": \"bank-a\",\n  \"down\": true\n}\n"},
		request(t, s, "POST", "/admin/simulators/bank-a/down", "", auth))
	assert.Equal(t, answer{200, "", "[\n  {\n    \"name\": \"bank-a\",\n    \"down\": true\n  }\n]\n"},
		request(t, s, "GET", "/admin/simulators", "", auth))
	assert.Equal(t, answer{200, "", "{\n  \"name\": \"bank-a\",\n  \"down\": false\n}\n"},
		request(t, s, "POST", "/admin/simulators/bank-a/up", "", auth))
	assert.Equal(t, answer{404, "", "{\n  \"error\": \"no simulator named \\\"bank-z\\\" runs in this process (see GET /admin/simulators)\"\n}\n"},
		request(t, s, "POST", "/admin/simulators/bank-z/down", "", auth))

	for _, ep := range []struct{ method, path string }{
		{"GET", "/admin/simulators/bank-a/down"}, {"PUT", "/admin/simulators/bank-a/up"}, {"POST", "/admin/simulators"},
	} {
		assert.Equal(t, 405, request(t, s, ep.method, ep.path, "", auth).status, "%s %s", ep.method, ep.path)
	}
	assert.Equal(t, 403, request(t, s, "POST", "/admin/simulators/bank-a/down", "",
		map[string]string{"Authorization": "Bearer " + testToken, "Origin": "http://evil.example"}).status)
	assert.False(t, sims.isDown("bank-a"), "a cross-site POST takes nothing down")
}
