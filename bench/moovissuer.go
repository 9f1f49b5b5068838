package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"sync"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
)

// runMoovIssuerChild is a realistic issuer host (--issuer moov): it unpacks
// and packs every message with moov-io, serves each connection on one
// goroutine, and writes its answers once it has no complete request left
// buffered. A host built this way holds every answer of a burst until it
// has read the whole burst: the shape issue 21 measured the switch
// against. It serves until stdin closes.
func runMoovIssuerChild() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { serveMoov(c) })
		}
	}()
	fmt.Println(ln.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fmt.Println("ok")
	}
	return nil
}

// serveMoov answers one connection until it closes.
func serveMoov(c net.Conn) {
	defer c.Close()
	spec := iso.Spec87()
	fr := iso.NewFrameReader(c, 65535)
	var out []byte
	for {
		frame, err := fr.Next()
		if err != nil {
			return
		}
		if resp, err := moovAnswer(spec, frame); err == nil {
			out = iso.AppendFrame(out, resp)
		}
		if fr.Complete() || len(out) == 0 {
			continue // more requests already read: answer them all in one write
		}
		if _, err := c.Write(out); err != nil {
			return
		}
		out = out[:0]
	}
}

// moovAnswer is an approving issuer's answer, built as a host built on a
// full ISO 8583 library builds it: unpack, set the answer's fields, pack.
func moovAnswer(spec *iso8583.MessageSpec, frame []byte) ([]byte, error) {
	m := iso8583.NewMessage(spec)
	if err := m.Unpack(frame); err != nil {
		return nil, err
	}
	mti, err := m.GetMTI()
	if err != nil || len(mti) != 4 {
		return nil, fmt.Errorf("no MTI")
	}
	resp := []byte(mti)
	resp[2]++
	m.MTI(string(resp))
	if err := m.Field(39, "00"); err != nil {
		return nil, err
	}
	if resp[1] == '1' || resp[1] == '2' {
		if err := m.Field(38, "A00001"); err != nil {
			return nil, err
		}
	}
	return m.Pack()
}
