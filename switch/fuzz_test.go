package switchd_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/issuersim"
	switchd "github.com/cardswitch/cardswitch/switch"
)

// fuzzMaxMessage is the fuzz switch's max_message_size: a longer frame is
// closed on its header, the one documented reason to lose the connection.
const fuzzMaxMessage = 8192

// fuzzTarget is one switch with an issuer simulator behind it, shared by
// every input of a fuzz process, and the acquirer connection that feeds it.
type fuzzTarget struct {
	sim     *issuersim.Sim
	simDone chan struct{}
	sw      *switchd.Switch
	cancel  context.CancelFunc
	done    chan error
	addr    string

	scanner *iso.Scanner
	conn    net.Conn
	fr      *iso.FrameReader
	stan    int
}

func newFuzzTarget() (*fuzzTarget, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sim, err := issuersim.New(config.Simulator{Name: "fuzz", Listen: "127.0.0.1:0"}, log)
	if err != nil {
		return nil, err
	}
	ft := &fuzzTarget{sim: sim, simDone: make(chan struct{}), done: make(chan error, 1)}
	go func() { defer close(ft.simDone); _ = sim.Serve() }()
	yaml := fmt.Sprintf("listen: {address: 127.0.0.1:0, max_message_size: %d}\n", fuzzMaxMessage) +
		"issuers:\n" + issuerYAML("bank", "2s", sim.Addr()) + "routes:\n  - {bin: \"4\", issuer: bank}\n"
	cfg, err := config.LoadBytes("fuzz.yaml", []byte(yaml))
	if err == nil {
		ft.sw, err = switchd.New(cfg, switchd.WithLogger(log), switchd.WithWatch(false))
	}
	if err == nil {
		ft.scanner, err = iso.NewScanner(iso.Spec87())
	}
	if err != nil {
		_ = sim.Close()
		<-ft.simDone
		return nil, err
	}
	ft.addr = ft.sw.Addr().String()
	var ctx context.Context
	ctx, ft.cancel = context.WithCancel(context.Background())
	go func() { ft.done <- ft.sw.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := ft.sw.WaitIssuer(wctx, "bank", atLeast(1)); err != nil {
		ft.close()
		return nil, fmt.Errorf("issuer link never came up: %w", err)
	}
	return ft, nil
}

func (ft *fuzzTarget) close() {
	if ft.conn != nil {
		_ = ft.conn.Close()
	}
	ft.cancel()
	<-ft.done
	_ = ft.sim.Close()
	<-ft.simDone
}

func (ft *fuzzTarget) connect(t *testing.T) {
	if ft.conn != nil {
		_ = ft.conn.Close()
	}
	c, err := net.DialTimeout("tcp", ft.addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial the switch: %v", err)
	}
	ft.conn, ft.fr = c, iso.NewFrameReader(c, iso.MaxFrameLen)
}

// exercise writes frame, then an 0800 echo, and requires the echo's 0810:
// the connection survived whatever frame was. Only a frame above the
// maximum message size may end the connection (documented); then a new
// connection must be served.
func (ft *fuzzTarget) exercise(t *testing.T, frame []byte) {
	if ft.conn == nil {
		ft.connect(t)
	}
	frame = frame[:min(len(frame), iso.MaxFrameLen)]
	_ = ft.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if len(frame) > fuzzMaxMessage {
		_ = iso.WriteFrame(ft.conn, frame)
		// Answers to earlier inputs may still arrive; then the switch must
		// close the connection. A timeout means it kept it open.
		for {
			_, err := ft.fr.Next()
			if err == nil {
				continue
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the switch kept the connection after a %d-byte frame above max_message_size", len(frame))
			}
			break
		}
		ft.connect(t)
		_ = ft.conn.SetDeadline(time.Now().Add(10 * time.Second))
	} else if err := iso.WriteFrame(ft.conn, frame); err != nil {
		t.Fatalf("write the fuzz frame: %v", err)
	}
	ft.stan = ft.stan%999_999 + 1
	stan := fmt.Sprintf("%06d", ft.stan)
	echo, err := iso.NetMgmtRequest(iso.Spec87(), uint32(ft.stan), iso.NetEcho, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := iso.WriteFrame(ft.conn, echo); err != nil {
		t.Fatalf("connection lost after a %d-byte frame: write echo: %v", len(frame), err)
	}
	var v iso.View
	for {
		body, err := ft.fr.Next()
		if err != nil {
			ft.conn = nil
			t.Fatalf("connection lost after a %d-byte frame (%q...): %v", len(frame), frame[:min(len(frame), 8)], err)
		}
		// Answers to the fuzz frame (or to earlier ones) are skipped.
		if ft.scanner.Scan(body, &v) == nil && string(v.MTI()) == "0810" && string(v.Field(11)) == stan {
			return
		}
	}
}

// fuzzSeeds: the golden 0100 and 0800 and corrupt variants of them.
func fuzzSeeds(f *testing.F) [][]byte {
	var golden [][]byte
	for _, name := range []string{"0100_auth.hex", "0800_echo.hex"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "golden", name))
		if err != nil {
			f.Fatal(err)
		}
		raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			f.Fatal(err)
		}
		golden = append(golden, raw[2:]) // without the length header
	}
	auth := golden[0]
	spoil := func(at int, s string) []byte {
		b := append([]byte(nil), auth...)
		copy(b[at:], s)
		return b
	}
	return append(golden,
		auth[:len(auth)/2],         // truncated inside a field
		spoil(4+15, "F"),           // bitmap announces fields that are absent
		spoil(4+16+2+16+6, "12AB"), // letters in the amount
		spoil(4+16, "99"),          // PAN length above its maximum
		spoil(0, "0110"),           // a response MTI
		spoil(0, "2100"),           // another ISO version
		append(append([]byte(nil), auth...), "trailing"...),
		[]byte{},                       // zero-length frame
		[]byte("08"),                   // no MTI
		[]byte{0xde, 0xad, 0xbe, 0xef}, // binary garbage
		make([]byte, fuzzMaxMessage+1), // above max_message_size
	)
}

// FuzzAcquirerFrame sends arbitrary bytes as one acquirer frame to a real
// switch and checks the switch neither crashes nor drops the connection.
func FuzzAcquirerFrame(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	var (
		once   sync.Once
		target *fuzzTarget
		err    error
	)
	f.Cleanup(func() {
		if target != nil {
			target.close()
		}
	})
	f.Fuzz(func(t *testing.T, frame []byte) {
		once.Do(func() { target, err = newFuzzTarget() })
		if err != nil {
			t.Fatalf("start the switch: %v", err)
		}
		target.exercise(t, frame)
	})
}
