package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/cardswitch/cardswitch/replay"
)

// runEchoChild serves until stdin closes. approve makes it the lean
// issuer: every answer carries 39=00 and 38, added by editing the frame
// (replay.NewApprovingEchoServer), so the issuer is never what limits the
// switch's throughput. The moov-based issuersim unpacks and packs every
// message and saturated a core before the switch did.
func runEchoChild(approve bool) error {
	newServer := replay.NewEchoServer
	if approve {
		newServer = replay.NewApprovingEchoServer
	}
	e, err := newServer("127.0.0.1:0")
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
