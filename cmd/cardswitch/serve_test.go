package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The shipped demo config, served by the real binary, gives an independent
// acquirer client (moov-io's iso8583-connection) every answer it documents.
func TestServeDemoConfigEndToEnd(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/demo.yaml")
	require.NoError(t, err)
	p, listening := serveOnFreePorts(t, nil, string(raw))
	addr := listening["addr"].(string)
	p.waitLog(t, "issuer link up", map[string]string{"issuer": "bank-a"})
	p.waitLog(t, "issuer link up", map[string]string{"issuer": "bank-b"})

	c, err := acqclient.Dial(addr, 10*time.Second)
	require.NoError(t, err)
	defer c.Close()
	cases := []struct {
		pan          string
		amount       int64
		code, issuer string
	}{
		{"4111111111111111", 1000, "00", "A"},
		{"4111111111110051", 1000, "51", ""},
		{"4111111111111111", 200000, "51", ""},
		{"4000001234567899", 1000, "00", "B"},
		{"5555555555554444", 1000, "00", "B"},
		{"5105105105105100", 1000, "00", "A"},
		{"4111111111110009", 1000, "91", ""},
		{"4111111111110096", 1000, "96", ""},
		{"3700000000000002", 1000, "91", ""},
		{"6011000000000004", 1000, "15", ""},
	}
	for i, tc := range cases {
		m, err := acqclient.Request{PAN: tc.pan, Amount: tc.amount, STAN: i + 1, RRN: "000000000001",
			Terminal: "TERM0001"}.Message()
		require.NoError(t, err)
		resp, err := c.Send(m)
		require.NoError(t, err, tc.pan)
		code, _ := resp.GetString(39)
		assert.Equal(t, tc.code, code, "%s amount %d", tc.pan, tc.amount)
		if tc.issuer != "" {
			approval, _ := resp.GetString(38)
			assert.True(t, strings.HasPrefix(approval, tc.issuer), "%s answered by %q", tc.pan, approval)
		}
	}
	echo, err := acqclient.Request{MTI: "0800", STAN: 99}.Message()
	require.NoError(t, err)
	resp, err := c.Send(echo)
	require.NoError(t, err)
	code, _ := resp.GetString(39)
	assert.Equal(t, "00", code)

	for _, l := range p.lines() {
		assert.NotContains(t, l, "4111111111111111", "full PAN in the log")
	}
}

// SIGTERM: stop accepting, let requests in flight finish, exit 0.
func TestServeSIGTERMFinishesInFlight(t *testing.T) {
	sim, err := issuersim.New(config.Simulator{Name: "slow", Listen: "127.0.0.1:0",
		Rules: []config.SimRule{{PANSuffix: "0777", Delay: 500 * time.Millisecond}}}, nil)
	require.NoError(t, err)
	go func() { _ = sim.Serve() }()
	defer sim.Close()
	arrived := make(chan struct{}, 1)
	sim.OnRequest(func(r issuersim.Request) {
		if r.MTI == "0100" {
			arrived <- struct{}{}
		}
	})
	cfg := writeFile(t, "c.yaml", `listen: {address: "127.0.0.1:0"}
issuers:
  - {name: bank, endpoints: [`+sim.Addr()+`]}
routes:
  - {bin: "4", issuer: bank}
`)
	p := startServe(t, "--config", cfg)
	addr := p.waitLog(t, "cardswitch listening", nil)["addr"].(string)
	p.waitLog(t, "issuer link up", nil)

	c, err := acqclient.Dial(addr, 10*time.Second)
	require.NoError(t, err)
	defer c.Close()
	got := make(chan string, 1)
	go func() {
		m, _ := acqclient.Request{PAN: "4111111111110777", Amount: 5, STAN: 1}.Message()
		resp, err := c.Send(m)
		if err != nil {
			got <- err.Error()
			return
		}
		code, _ := resp.GetString(39)
		got <- code
	}()
	<-arrived
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, "00", <-got, "request in flight at SIGTERM is answered")
	err = <-p.done
	p.done <- err
	assert.NoError(t, err, "exit status 0 after SIGTERM")
	p.waitLog(t, "shutdown complete", nil)
}

// A listen port another process holds stops serve with an error that names
// it.
func TestServeOnBusyPortSaysAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	p := startServe(t, "--config", writeFile(t, "busy.yaml", "listen: {address: \""+ln.Addr().String()+"\"}\n"+
		"admin: {address: \"\"}\nissuers: [{name: bank, endpoints: [\"127.0.0.1:1\"]}]\nroutes: [{bin: \"4\", issuer: bank}]\n"))
	_, err = p.awaitLog("cardswitch listening", nil)
	require.ErrorContains(t, err, "switch exited")
	assert.True(t, p.logged("address already in use"), strings.Join(p.lines(), "\n"))
}

// testdata/standin-sim.yaml served by the real binary: the admin listener
// takes the in-process simulator down (the switch loses its link and
// stands in) and brings it up (the link comes back and the simulator
// receives the 0120 advice of the decision).
func TestServeSimulatorDownAndUpOverAdmin(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/standin-sim.yaml")
	require.NoError(t, err)
	p, listening := serveOnFreePorts(t, nil, string(raw))
	addr, admin := listening["addr"].(string), listening["admin"].(string)
	p.waitLog(t, "issuer link up", map[string]string{"issuer": "bank-a"})
	post := func(path string) (int, string) {
		resp, err := http.Post("http://"+admin+path, "", nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	c, err := acqclient.Dial(addr, 10*time.Second)
	require.NoError(t, err)
	defer c.Close()

	code, body := post("/admin/simulators/bank-a/down")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"state": "down"`)
	p.waitLog(t, "issuer link down", map[string]string{"issuer": "bank-a"})
	m, err := acqclient.Request{PAN: "4111111111111111", Amount: 5000, STAN: 1, RRN: "000000000001",
		Terminal: "TERM0001"}.Message()
	require.NoError(t, err)
	resp, err := c.Send(m)
	require.NoError(t, err)
	got, _ := resp.GetString(39)
	approval, _ := resp.GetString(38)
	assert.Equal(t, "00", got, "stood in for")
	assert.True(t, strings.HasPrefix(approval, "S"), "the switch's approval code: %q", approval)

	code, body = post("/admin/simulators/bank-a/up")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"state": "up"`)
	p.waitLog(t, "request", map[string]string{"sim": "bank-a", "mti": "0120", "code": "00"})
}
