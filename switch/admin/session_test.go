package admin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeStatus answers the status endpoints with fixed values.
type fakeStatus struct{}

func (fakeStatus) StatusJSON() any { return map[string]int{"version": 1} }
func (fakeStatus) Transactions(f TxnFilter) (any, error) {
	if f.Outcome == "nope" {
		return nil, &ParamError{Param: "outcome", Msg: "unknown"}
	}
	return f, nil
}
func (fakeStatus) Lookup(pan []byte) any { return map[string]int{"digits": len(pan)} }

// signIn posts the sign-in form and returns the answer and its cookie.
func signIn(t *testing.T, s *Server, token string) (*http.Response, *http.Cookie) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm("http://"+s.Addr()+"/status/login", url.Values{"token": {token}})
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return resp, c
		}
	}
	return resp, nil
}

// Without a Status the JSON endpoints answer 404 JSON; with one, they
// answer, and a malformed filter is a 400 naming the parameter.
func TestStatusEndpoints(t *testing.T) {
	s := startOn(t, "127.0.0.1:0", Access{}, &fakeBackend{}, nil, defaultLimits)
	r := do(t, s, "GET", "/status.json")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "application/json", r.ctype)

	s.SetStatus(fakeStatus{})
	assert.JSONEq(t, `{"version": 1}`, do(t, s, "GET", "/status.json").body)
	assert.JSONEq(t, `{"Issuer": "", "Code": "", "Outcome": "", "Limit": 50}`, do(t, s, "GET", "/status/transactions").body)
	for path, want := range map[string]string{
		"/status/transactions?outcome=nope": `{"error": "outcome: unknown"}`,
		"/status/transactions?code=123":     `{"error": "code: two letters or digits, e.g. 05"}`,
		"/status/transactions?limit=99":     `{"error": "limit: a number from 1 to 50"}`,
	} {
		r := do(t, s, "GET", path)
		assert.Equal(t, http.StatusBadRequest, r.status, path)
		assert.JSONEq(t, want, r.body, path)
	}
}

// Sign-in attempts are rate-limited per client address: a burst past the
// limit is refused 429 before the token is compared.
func TestSignInRateLimited(t *testing.T) {
	s := startOn(t, "127.0.0.1:0", Access{Token: testToken}, &fakeBackend{}, nil, defaultLimits)
	codes := map[int]int{}
	for range 3 * loginBurst {
		resp, _ := signIn(t, s, "wrong")
		codes[resp.StatusCode]++
	}
	assert.Positive(t, codes[http.StatusTooManyRequests], "%v", codes)
	assert.Positive(t, codes[http.StatusUnauthorized], "%v", codes)
}

// A session is bound to the token it signed in with: a new token (a
// reload of admin.token_file) ends it.
func TestSessionEndsWithToken(t *testing.T) {
	s := startOn(t, "127.0.0.1:0", Access{Token: testToken}, &fakeBackend{}, nil, defaultLimits)
	s.SetStatus(fakeStatus{})
	resp, c := signIn(t, s, testToken)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.NotNil(t, c)
	cookie := map[string]string{"Cookie": sessionCookie + "=" + c.Value}
	assert.Equal(t, http.StatusOK, request(t, s, "GET", "/status.json", "", cookie).status)
	assert.Equal(t, http.StatusUnauthorized, request(t, s, "GET", "/admin/routes", "", map[string]string{
		"Cookie": sessionCookie + "=" + strings.Repeat("0", len(c.Value))}).status)

	require.NoError(t, s.SetAccess(Access{Token: testToken + "-new"}))
	a := request(t, s, "GET", "/status.json", "", cookie)
	assert.Equal(t, http.StatusUnauthorized, a.status)
	assert.Contains(t, a.body, `"error"`)
}

// Sessions are bounded: past maxSessions the one nearest expiry goes.
func TestSessionsBounded(t *testing.T) {
	ss := newSessions()
	var sum [32]byte
	for range maxSessions + 10 {
		ss.create(sum, time.Now())
	}
	assert.Len(t, ss.m, maxSessions)
}
