package main

import (
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/spf13/cobra"

	"github.com/cardswitch/cardswitch/internal/dialectio"
	"github.com/cardswitch/cardswitch/iso"
)

// defaultTPDU is the TPDU send puts in front of a request in a TPDU
// dialect: ID 60, destination NII 0001, source NII 0000, the usual test
// terminal's.
const defaultTPDU = "6000010000"

// sendHeader is the header send puts in front of the message: the TPDU of
// --tpdu (or defaultTPDU) in a TPDU dialect, nothing otherwise.
func (o *sendOpts) sendHeader(d iso.Dialect) ([]byte, error) {
	if d.Framing.Header != iso.HeaderTPDU {
		if o.tpdu != "" {
			return nil, fmt.Errorf("--tpdu: dialect %s has no TPDU header", d.Name)
		}
		return nil, nil
	}
	t := o.tpdu
	if t == "" {
		t = defaultTPDU
	}
	b, err := hex.DecodeString(t)
	if err != nil || len(b) != iso.TPDULen || b[0] != 0x60 {
		return nil, fmt.Errorf("--tpdu %q: want 10 hex digits starting 60 (ID 60, destination NII, source NII)", t)
	}
	return b, nil
}

// runDialect sends the request in dialect d over a plain socket: the
// message built in d's text form, re-packed in d's encoding and framed
// with d's framing; the answer is read and printed in d.
func (o *sendOpts) runDialect(cmd *cobra.Command, d iso.Dialect) error {
	codec, err := dialectio.New(d)
	if err != nil {
		return err
	}
	hdr, err := o.sendHeader(d)
	if err != nil {
		return err
	}
	req, err := o.r.MessageIn(codec.TextSpec(), d.Version)
	if err != nil {
		return sendBuildError(err, o.r.Fields)
	}
	text, err := req.Pack()
	if err != nil {
		return errors.New("cannot build the message: check --pan, --track2 and the other field flags")
	}
	wire, err := codec.ToWire(text)
	if err != nil {
		return fmt.Errorf("cannot express the message in dialect %s: %w", d.Name, err)
	}
	frame, err := d.Framing.AppendFrame(nil, hdr, wire)
	if err != nil {
		return err
	}
	tc, err := o.tls.config(o.target)
	if err != nil {
		return err
	}
	nc, err := dialTool(o.target, o.timeout, tc)
	if err != nil {
		return err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(o.timeout))
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "-> %s to %s in %s\n", o.r.MTI, o.target, d.Name)
	printWire(out, codec.WireSpec(), hdr, wire)
	start := time.Now()
	if _, err := nc.Write(frame); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	rhdr, resp, err := readAnswer(nc, d, codec.WireSpec(), fmt.Sprintf("%06d", o.r.STAN))
	if err != nil {
		return fmt.Errorf("no response: %w", err)
	}
	mti, _ := resp.GetMTI()
	code, _ := resp.GetString(39)
	fmt.Fprintf(out, "<- %s in %s: 39=%s %s\n", mti, time.Since(start).Round(time.Microsecond), code, iso.CodeText(code))
	packed, _ := resp.Pack()
	printWire(out, codec.WireSpec(), rhdr, packed)
	return nil
}

// dialTool connects to target, over TLS when tc is set.
func dialTool(target string, timeout time.Duration, tc *tls.Config) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	var nc net.Conn
	var err error
	if tc != nil {
		nc, err = tls.DialWithDialer(d, "tcp", target, tc)
	} else {
		nc, err = d.Dial("tcp", target)
	}
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", target, err)
	}
	return nc, nil
}

// readAnswer reads frames in d until one carries stan in field 11 (a host
// may send other traffic first) and returns its header and message.
func readAnswer(r io.Reader, d iso.Dialect, spec *iso8583.MessageSpec, stan string) ([]byte, *iso8583.Message, error) {
	fr := iso.NewFramedReader(r, d.Framing, 0)
	for {
		hdr, body, err := fr.Next()
		if err != nil {
			return nil, nil, err
		}
		m := iso8583.NewMessage(spec)
		if err := m.Unpack(body); err != nil {
			return nil, nil, unpackError(err)
		}
		if got, _ := m.GetString(11); got == stan {
			return append([]byte(nil), hdr...), m, nil
		}
	}
}

// printWire lists a message as it went on the wire in its dialect: the
// header, then the fields with card data masked or withheld.
func printWire(w io.Writer, spec *iso8583.MessageSpec, hdr, msg []byte) {
	var b strings.Builder
	if len(hdr) > 0 {
		fmt.Fprintf(&b, "   header %X\n", hdr)
	}
	m := iso8583.NewMessage(spec)
	if err := m.Unpack(msg); err != nil {
		fmt.Fprintf(&b, "   (%v)\n", unpackError(err))
	} else {
		var fields strings.Builder
		writeFields(&fields, m)
		for _, line := range strings.SplitAfter(fields.String(), "\n") {
			if line != "" {
				b.WriteString("   " + line)
			}
		}
	}
	_, _ = io.WriteString(w, b.String())
}
