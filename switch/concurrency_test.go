package switchd_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Acquirers keep STANs unique only per terminal: many connections send the
// same STANs at once to the same issuer, and every answer must still reach
// the request it belongs to.
func TestSTANCollisionsAcrossAcquirers(t *testing.T) {
	sim1 := startSim(t, config.Simulator{})
	sim2 := startSim(t, config.Simulator{})
	sw := startSwitch(t, "issuers:\n"+issuerYAML("bank", "10s", sim1.Addr(), sim2.Addr())+
		"routes:\n  - {bin: \"4\", issuer: bank}\n", "bank")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, sw.WaitIssuer(ctx, "bank", atLeast(2)))

	const conns, perConn = 20, 50
	var wg sync.WaitGroup
	errs := make(chan error, conns*perConn)
	for ci := 0; ci < conns; ci++ {
		c := dial(t, sw.addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var inner sync.WaitGroup
			for i := 1; i <= perConn; i++ {
				inner.Add(1)
				go func() {
					defer inner.Done()
					// Same STAN on every connection; amount and RRN tell them apart.
					r := auth("4111111111111111", int64(ci*1000+i), i)
					r.RRN = fmt.Sprintf("%06d%06d", ci, i)
					m, _ := r.Message()
					resp, err := c.Send(m)
					if err != nil {
						errs <- err
						return
					}
					amt, _ := resp.GetString(4)
					rrn, _ := resp.GetString(37)
					code, _ := resp.GetString(39)
					if amt != fmt.Sprint(ci*1000+i) || rrn != r.RRN || code != "00" {
						errs <- fmt.Errorf("conn %d stan %d: got amount %s rrn %s code %s", ci, i, amt, rrn, code)
					}
				}()
			}
			inner.Wait()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := sim1.Stats().Approved + sim2.Stats().Approved
	assert.EqualValues(t, conns*perConn, total, "each request reached an issuer exactly once")
	assert.NotZero(t, sim1.Stats().Approved, "requests spread over both links")
	assert.NotZero(t, sim2.Stats().Approved, "requests spread over both links")
}

// Shutdown stops accepting and lets a request in flight finish.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	sim := startSim(t, config.Simulator{Rules: []config.SimRule{{PANSuffix: "0777", Delay: 300 * time.Millisecond}}})
	arrived := make(chan struct{}, 1)
	sim.OnRequest(func(r issuersim.Request) {
		if r.MTI == "0100" {
			arrived <- struct{}{}
		}
	})
	sw := startSwitch(t, "issuers:\n"+issuerYAML("bank", "5s", sim.Addr())+"routes:\n  - {bin: \"4\", issuer: bank}\n", "bank")
	c := dial(t, sw.addr)
	got := make(chan string, 1)
	go func() {
		m, _ := auth("4111111111110777", 100, 1).Message()
		resp, err := c.Send(m)
		if err != nil {
			got <- err.Error()
			return
		}
		code, _ := resp.GetString(39)
		got <- code
	}()
	<-arrived // the request is at the issuer, its answer still to come
	sw.stop()
	assert.Equal(t, "00", <-got, "the request in flight was answered")
	_, err := dialErr(sw.addr)
	assert.Error(t, err, "no new connections after shutdown")
}
