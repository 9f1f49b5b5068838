package switchd_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/testpki"
	"github.com/cardswitch/cardswitch/iso"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startSwitchFile runs the switch on the config file at path (its listen
// address must be a free port, e.g. 127.0.0.1:0), without the file
// watcher: the test triggers each reload itself, as SIGHUP or POST would.
func startSwitchFile(t testing.TB, path string, wantUp ...string) *running {
	t.Helper()
	cfg, err := config.Load(path)
	require.NoError(t, err)
	return runSwitch(t, cfg, wantUp, switchd.WithLogger(testLog(t)), switchd.WithWatch(false))
}

// writeConfig writes yaml to a new config file and returns its path.
func writeConfig(t testing.TB, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cardswitch.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	return path
}

// replaceFile puts content at path by rename, as certificate tools do.
func replaceFile(t testing.TB, path string, content []byte) {
	t.Helper()
	tmp := path + ".next"
	require.NoError(t, os.WriteFile(tmp, content, 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// serialOf is the serial number of a PEM certificate.
func serialOf(t testing.TB, certPEM []byte) string {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	require.NotNil(t, b)
	c, err := x509.ParseCertificate(b.Bytes)
	require.NoError(t, err)
	return c.SerialNumber.String()
}

// servedSerial is the serial of the certificate the switch presented on c.
func servedSerial(c *rawConn) string {
	return c.Conn.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// tlsLoad keeps acquirer connections sending authorizations, one at a time
// each, and counts each connection's approvals.
type tlsLoad struct {
	approved []atomic.Int64
	progress chan struct{} // a token after approvals
	errs     chan error
	stop     chan struct{}
	wg       sync.WaitGroup
}

func startTLSLoad(t *testing.T, conns []*rawConn) *tlsLoad {
	ld := &tlsLoad{approved: make([]atomic.Int64, len(conns)), progress: make(chan struct{}, 1),
		errs: make(chan error, len(conns)), stop: make(chan struct{})}
	for ci, c := range conns {
		bodies := make([][]byte, 50)
		for i := range bodies {
			bodies[i] = pack(t, auth("4111111111111111", 100, ci*1000+i+1))
		}
		ld.wg.Add(1)
		go func() {
			defer ld.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-ld.stop:
					return
				default:
				}
				if err := ld.roundTrip(c, bodies[i%len(bodies)]); err != nil {
					ld.errs <- fmt.Errorf("conn %d request %d: %w", ci, i, err)
					return
				}
				ld.approved[ci].Add(1)
				select {
				case ld.progress <- struct{}{}:
				default:
				}
			}
		}()
	}
	return ld
}

func (ld *tlsLoad) roundTrip(c *rawConn, body []byte) error {
	if err := iso.WriteFrame(c, body); err != nil {
		return err
	}
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	resp, err := c.fr.Next()
	if err != nil {
		return err
	}
	m := iso8583.NewMessage(iso.Spec87())
	if err := m.Unpack(resp); err != nil {
		return err
	}
	if code, _ := m.GetString(39); code != "00" {
		return fmt.Errorf("answered %q", code)
	}
	return nil
}

// flowing waits until every connection has n more approvals than now.
func (ld *tlsLoad) flowing(t *testing.T, n int64) {
	t.Helper()
	targets := make([]int64, len(ld.approved))
	for i := range ld.approved {
		targets[i] = ld.approved[i].Load() + n
	}
	deadline := time.After(30 * time.Second)
	for i := range ld.approved {
		for ld.approved[i].Load() < targets[i] {
			select {
			case <-ld.progress:
			case err := <-ld.errs:
				t.Fatalf("load failed: %v", err)
			case <-deadline:
				t.Fatalf("connection %d stalled at %d approvals", i, ld.approved[i].Load())
			}
		}
	}
}

func (ld *tlsLoad) end(t *testing.T) {
	t.Helper()
	close(ld.stop)
	ld.wg.Wait()
	close(ld.errs)
	for err := range ld.errs {
		t.Errorf("acquirer connection failed: %v", err)
	}
}

// A renewed server certificate is put in force by a reload while acquirers
// keep sending over their TLS connections: none is dropped, new
// connections get the new certificate, and a certificate file that does
// not load is a rejected reload (the renewed one is still served).
func TestCertificateRenewedUnderLoad(t *testing.T) {
	p := newTLSPKI(t)
	sim := startSim(t, config.Simulator{})
	path := writeConfig(t, fmt.Sprintf("listen:\n  address: 127.0.0.1:0\n  tls:\n    cert_file: %s\n    key_file: %s\n",
		p.serverCert, p.srvKey)+"admin: {address: \"127.0.0.1:0\"}\n"+bankYAML(sim.Addr()))
	sw := startSwitchFile(t, path, "bank")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	conns := make([]*rawConn, 4)
	for i := range conns {
		c, err := dialTLS(t, sw.addr, p.clientConfig())
		require.NoError(t, err)
		conns[i] = c
	}
	oldSerial := servedSerial(conns[0])
	ld := startTLSLoad(t, conns)
	ld.flowing(t, 20)

	crt, key := p.ca.Issue(t, "localhost", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, false)
	replaceFile(t, p.serverCert, crt)
	replaceFile(t, p.srvKey, key)
	res, err := sw.Reload(ctx)
	require.NoError(t, err)
	assert.True(t, res.Changed, "certificate files renewed under an unchanged config file")
	assert.Contains(t, res.Diff, "listen.tls")
	ld.flowing(t, 20) // every connection opened before the reload still serves

	fresh, err := dialTLS(t, sw.addr, p.clientConfig())
	require.NoError(t, err)
	newSerial := serialOf(t, crt)
	require.NotEqual(t, oldSerial, newSerial)
	assert.Equal(t, newSerial, servedSerial(fresh), "a new connection gets the renewed certificate")
	fresh.write(t, pack(t, auth("4111111111111111", 100, 9001)))
	assert.Equal(t, "00", str(t, fresh.read(t), 39))

	replaceFile(t, p.serverCert, []byte("not a certificate\n"))
	_, err = sw.Reload(ctx)
	var ce *switchd.CertError
	require.ErrorAs(t, err, &ce, "a certificate that does not load rejects the reload")
	assert.Equal(t, "listen.tls", ce.Section)
	assert.ErrorContains(t, err, p.serverCert)
	code, body := opsHTTP(t, "POST", "http://"+sw.AdminAddr()+"/admin/reload")
	assert.Equal(t, 422, code)
	var answer struct{ Problems []string }
	require.NoError(t, json.Unmarshal([]byte(body), &answer))
	require.Len(t, answer.Problems, 1)
	assert.Equal(t, fmt.Sprintf("listen.tls: tlsconf: cert_file %q: no PEM certificate found", p.serverCert), answer.Problems[0],
		"the answer names the section and the file")
	ld.flowing(t, 20)

	again, err := dialTLS(t, sw.addr, p.clientConfig())
	require.NoError(t, err)
	assert.Equal(t, newSerial, servedSerial(again), "the renewed certificate is still served")
	ld.end(t)
}

// A renewed client certificate of an issuer link is put in force by a
// reload: the live link is left alone, its next dial presents the new
// one; a reload with an unloadable one is rejected and dials go on with
// the certificate in force.
func TestIssuerClientCertRenewed(t *testing.T) {
	p := newTLSPKI(t)
	sim := startSim(t, config.Simulator{})
	seen := make(chan string, 100) // serial of each client certificate the issuer's front end accepted
	px := startTLSProxyWith(t, p, sim.Addr(), true, func(c *tls.Config) {
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			seen <- cs.PeerCertificates[0].SerialNumber.String()
			return nil
		}
	})
	dir := t.TempDir()
	crt, key := p.ca.Issue(t, "acq-one", nil, nil, true)
	certFile, keyFile := testpki.WriteFiles(t, dir, "link", crt, key)
	path := writeConfig(t, "listen: {address: \"127.0.0.1:0\"}\n"+issuerTLSYAML(px.addr(), fmt.Sprintf(
		"    tls: {ca_file: %s, server_name: localhost, cert_file: %s, key_file: %s}\n", p.caFile, certFile, keyFile)))
	sw := startSwitchFile(t, path, "bank")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	next := func() string {
		select {
		case s := <-seen:
			return s
		case <-ctx.Done():
			t.Fatal("the link never dialed the issuer again")
			return ""
		}
	}
	require.Equal(t, serialOf(t, crt), next())

	crt2, key2 := p.ca.Issue(t, "acq-one", nil, nil, true)
	replaceFile(t, certFile, crt2)
	replaceFile(t, keyFile, key2)
	res, err := sw.Reload(ctx)
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Contains(t, res.Diff, "issuers[bank].tls")
	assert.Equal(t, "00", str(t, send(t, dial(t, sw.addr), auth("4111111111111111", 100, 1)), 39), "the live link serves on")

	px.dropAll()
	require.Equal(t, serialOf(t, crt2), next(), "the next dial presents the renewed certificate")
	require.NoError(t, sw.WaitIssuer(ctx, "bank", atLeast(1)))
	assert.Equal(t, "00", str(t, send(t, dial(t, sw.addr), auth("4111111111111111", 100, 2)), 39))

	replaceFile(t, certFile, []byte("garbage\n"))
	_, err = sw.Reload(ctx)
	var ce *switchd.CertError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "issuers[bank].tls", ce.Section)
	px.dropAll()
	require.Equal(t, serialOf(t, crt2), next(), "dials go on with the certificate in force")
	require.NoError(t, sw.WaitIssuer(ctx, "bank", atLeast(1)))
	assert.Equal(t, "00", str(t, send(t, dial(t, sw.addr), auth("4111111111111111", 100, 3)), 39))
}

// dropAll closes every connection the proxy holds, as an issuer's front
// end restarting would; the listener stays.
func (px *tlsProxy) dropAll() {
	px.mu.Lock()
	defer px.mu.Unlock()
	for _, c := range px.conns {
		_ = c.Close()
	}
	px.conns = nil
}

// The acquirers' CA (listen.tls.client_ca_file) is re-read by a reload
// too: a client certificate of the new CA is accepted by new handshakes,
// and a connection opened under the old CA stays.
func TestClientCARenewed(t *testing.T) {
	p := newTLSPKI(t)
	sim := startSim(t, config.Simulator{})
	caFile, _ := testpki.WriteFiles(t, t.TempDir(), "acquirers-ca", p.ca.CertPEM(), nil)
	path := writeConfig(t, fmt.Sprintf("listen:\n  address: 127.0.0.1:0\n  tls:\n    cert_file: %s\n    key_file: %s\n    client_ca_file: %s\n",
		p.serverCert, p.srvKey, caFile)+bankYAML(sim.Addr()))
	sw := startSwitchFile(t, path, "bank")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	good := func(stan int) []byte { return pack(t, auth("4111111111111111", 100, stan)) }

	old, err := dialTLS(t, sw.addr, p.clientConfig(p.client))
	require.NoError(t, err)
	old.write(t, good(1))
	require.Equal(t, "00", str(t, old.read(t), 39))

	newCA := testpki.NewCA(t, "acquirers CA 2")
	renewed := p.clientCertFrom(t, newCA, "acq-one")
	replaceFile(t, caFile, append(p.ca.CertPEM(), newCA.CertPEM()...)) // both, while acquirers move over
	res, err := sw.Reload(ctx)
	require.NoError(t, err)
	assert.Contains(t, res.Diff, "listen.tls")

	c, err := dialTLS(t, sw.addr, p.clientConfig(renewed))
	require.NoError(t, err)
	c.write(t, good(2))
	assert.Equal(t, "00", str(t, c.read(t), 39), "a certificate of the added CA is accepted")
	old.write(t, good(3))
	assert.Equal(t, "00", str(t, old.read(t), 39), "the connection opened before the reload stays")
}
