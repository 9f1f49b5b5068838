package switchd_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/issuersim"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// packAcq packs r with field 32 (acquiring institution id) set.
func packAcq(t testing.TB, r acqclient.Request, field32 string) []byte {
	t.Helper()
	m, err := r.Message()
	require.NoError(t, err)
	require.NoError(t, m.Field(32, field32))
	b, err := m.Pack()
	require.NoError(t, err)
	return b
}

// heldAmount marks requests the gated simulator holds until released.
const heldAmount = 777

// gate makes a simulator hold every request for heldAmount until open, so
// that a test controls exactly how many requests wait on the issuer.
type gate struct {
	release chan struct{}
	once    sync.Once
}

func holdRequests(sim *issuersim.Sim) *gate {
	g := &gate{release: make(chan struct{})}
	sim.OnRequest(func(r issuersim.Request) {
		if r.Amount == fmt.Sprintf("%012d", heldAmount) {
			<-g.release
		}
	})
	return g
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// readCode reads one answer and returns its STAN and response code.
func readCode(t testing.TB, c *rawConn) (stan, code string) {
	t.Helper()
	m := c.read(t)
	return wire(t, m, 11), str(t, m, 39)
}

func acquirerYAML(acq string) string {
	return "admin: {address: 127.0.0.1:0}\nacquirers:\n" + acq
}

func TestAcquirerInstitutionID(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	log, logs := jsonLogger()
	cfg := opsLoad(t, acquirerYAML("  - {name: acq-a, institution_id: \"123456\", allow_cidrs: [127.0.0.1/32]}\n")+bankYAML(sim.Addr()))
	sw := opsRun(t, cfg, switchd.WithLogger(log))
	opsWaitUp(t, sw, "bank")
	c := dialRaw(t, sw.addr)

	c.write(t, packAcq(t, auth("4111111111111111", 100, 1), "123456"))
	_, code := readCode(t, c)
	assert.Equal(t, "00", code, "own institution id")

	c.write(t, packAcq(t, auth("4111111111111111", 100, 2), "999999"))
	stan, code := readCode(t, c)
	assert.Equal(t, "000002", stan)
	assert.Equal(t, switchd.CodeNotPermitted, code, "another institution's id: impersonation")
	assert.Contains(t, logs.String(), "impersonation refused")
	assert.NotContains(t, logs.String(), "4111111111111111")
	opsRequireMetric(t, opsScrape(t, sw), "cardswitch_rejected_total", map[string]string{"reason": "institution"}, 1)

	c.write(t, packAcq(t, auth("4111111111111111", 100, 3), "123456"))
	_, code = readCode(t, c)
	assert.Equal(t, "00", code, "the connection stays usable")
}

func TestUnknownAcquirerRefused(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	cfg := opsLoad(t, acquirerYAML("  - {name: far, institution_id: \"123456\", allow_cidrs: [10.0.0.0/8]}\n")+bankYAML(sim.Addr()))
	sw := opsRun(t, cfg)
	refused(t, dialRaw(t, sw.addr), packAcq(t, auth("4111111111111111", 100, 1), "123456"))
	opsRequireMetric(t, opsScrape(t, sw), "cardswitch_rejected_total", map[string]string{"reason": "unknown_acquirer"}, 1)
	assert.Zero(t, sw.Stats().Requests)
}

func TestAcquirerCertSubject(t *testing.T) {
	p := newTLSPKI(t)
	sim := startSim(t, config.Simulator{})
	yaml := p.listenYAML(true) + "acquirers:\n  - {name: acq-one, institution_id: \"123456\", cert_subject: acq-one}\n" +
		bankYAML(sim.Addr())
	sw := startSwitch(t, yaml, "bank")
	body := packAcq(t, auth("4111111111111111", 100, 1), "123456")

	c, err := dialTLS(t, sw.addr, p.clientConfig(p.client))
	require.NoError(t, err)
	c.write(t, body)
	_, code := readCode(t, c)
	assert.Equal(t, "00", code, "identified by its certificate")

	// A valid certificate of the same CA that names no acquirer.
	c, err = dialTLS(t, sw.addr, p.clientConfig(p.clientCertFrom(t, p.ca, "acq-two")))
	if err == nil {
		refused(t, c, body)
	}
}

func TestAcquirerMaxConnections(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	sw := startSwitch(t, acquirerYAML("  - {name: a, institution_id: \"123456\", allow_cidrs: [127.0.0.0/8], max_connections: 1}\n")+
		bankYAML(sim.Addr()), "bank")
	first := dialRaw(t, sw.addr)
	first.write(t, pack(t, acqclient.Request{MTI: "0800", STAN: 1}))
	_, code := readCode(t, first) // admitted before the second one dials
	require.Equal(t, "00", code)
	refused(t, dialRaw(t, sw.addr), pack(t, acqclient.Request{MTI: "0800", STAN: 2}))
	opsRequireMetric(t, opsScrape(t, sw), "cardswitch_rejected_total", map[string]string{"reason": "max_connections"}, 1)
}

// inFlightCase: two requests held at the issuer, a third refused at once.
func inFlightCase(t *testing.T, yaml, field32 string) {
	sim := startSim(t, config.Simulator{})
	g := holdRequests(sim)
	t.Cleanup(g.open)
	sw := startSwitch(t, yaml+bankYAML(sim.Addr()), "bank")
	t.Cleanup(g.open) // before the switch's shutdown waits for them
	c := dialRaw(t, sw.addr)
	// One connection reads in order: the third is handled while the first
	// two wait for the (held) issuer.
	c.write(t, packAcq(t, auth("4111111111111111", heldAmount, 1), field32))
	c.write(t, packAcq(t, auth("4111111111111111", heldAmount, 2), field32))
	c.write(t, packAcq(t, auth("4111111111111111", heldAmount, 3), field32))
	stan, code := readCode(t, c)
	assert.Equal(t, "000003", stan, "the refused request is answered first, at once")
	assert.Equal(t, switchd.CodeOverloaded, code)
	g.open()
	got := map[string]string{}
	for range 2 {
		stan, code := readCode(t, c)
		got[stan] = code
	}
	assert.Equal(t, map[string]string{"000001": "00", "000002": "00"}, got)
}

func TestAcquirerMaxInFlight(t *testing.T) {
	inFlightCase(t, "acquirers:\n  - {name: a, institution_id: \"123456\", allow_cidrs: [127.0.0.0/8], max_in_flight: 2}\n", "123456")
}

func TestListenMaxInFlight(t *testing.T) {
	inFlightCase(t, "listen: {max_in_flight: 2}\n", "123456")
}

func TestAcquirerRate(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	// A bucket of 2 that refills once every 100 s: the third request in a
	// row is over the rate however slow the machine.
	sw := startSwitch(t, "acquirers:\n  - {name: a, institution_id: \"123456\", allow_cidrs: [127.0.0.0/8], rate: 0.01, burst: 2}\n"+
		bankYAML(sim.Addr()), "bank")
	c := dialRaw(t, sw.addr)
	var codes []string
	for i := 1; i <= 3; i++ {
		c.write(t, packAcq(t, auth("4111111111111111", 100, i), "123456"))
		_, code := readCode(t, c)
		codes = append(codes, code)
	}
	assert.Equal(t, []string{"00", "00", switchd.CodeRateExceeded}, codes)
}

func TestListenMaxConnections(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	sw := startSwitch(t, "admin: {address: 127.0.0.1:0}\nlisten: {max_connections: 1}\n"+bankYAML(sim.Addr()), "bank")
	first := dialRaw(t, sw.addr)
	first.write(t, pack(t, acqclient.Request{MTI: "0800", STAN: 1}))
	_, code := readCode(t, first)
	require.Equal(t, "00", code)
	refused(t, dialRaw(t, sw.addr), pack(t, acqclient.Request{MTI: "0800", STAN: 2}))
	opsRequireMetric(t, opsScrape(t, sw), "cardswitch_rejected_total", map[string]string{"reason": "max_connections"}, 1)

	first.write(t, pack(t, auth("4111111111111111", 100, 3)))
	_, code = readCode(t, first)
	assert.Equal(t, "00", code, "the admitted connection is unaffected")
}

// The masked PAN, never the full one, identifies the card in a refusal log.
func TestImpersonationLogMasksPAN(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	log, logs := jsonLogger()
	cfg := opsLoad(t, "acquirers:\n  - {name: a, institution_id: \"123456\", allow_cidrs: [127.0.0.0/8]}\n"+bankYAML(sim.Addr()))
	sw := opsRun(t, cfg, switchd.WithLogger(log))
	opsWaitUp(t, sw, "bank")
	c := dialRaw(t, sw.addr)
	c.write(t, packAcq(t, auth("4111111111111111", 100, 1), "999999"))
	_, code := readCode(t, c)
	require.Equal(t, "58", code)
	for _, line := range strings.Split(logs.String(), "\n") {
		assert.NotContains(t, line, "4111111111111111")
	}
	assert.Contains(t, logs.String(), iso.MaskPAN([]byte("4111111111111111")))
}
