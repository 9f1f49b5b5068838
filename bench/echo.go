package main

import (
	"bufio"
	"cmp"
	"fmt"
	"os"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/replay"
)

// newEcho is the echo or lean issuer in the dialect of envDialect (default
// iso87ascii: replay's echo servers as they always were).
func newEcho(approve bool) (*replay.EchoServer, error) {
	name := cmp.Or(os.Getenv(envDialect), "iso87ascii")
	if name == "iso87ascii" {
		if approve {
			return replay.NewApprovingEchoServer("127.0.0.1:0")
		}
		return replay.NewEchoServer("127.0.0.1:0")
	}
	d, err := iso.LookupDialect(name)
	if err != nil {
		return nil, err
	}
	return replay.NewEchoServerIn("127.0.0.1:0", d, approve)
}

// runEchoChild serves until stdin closes. approve makes it the lean
// issuer: every answer carries 39=00 and 38, added by editing the frame
// (replay.NewApprovingEchoServer), so the issuer is never what limits the
// switch's throughput. The moov-based issuersim unpacks and packs every
// message and saturated a core before the switch did.
func runEchoChild(approve bool) error {
	e, err := newEcho(approve)
	if err != nil {
		return err
	}
	defer e.Close()
	fmt.Println(e.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fmt.Println("ok") // no commands: every line is a ping
	}
	return nil
}
