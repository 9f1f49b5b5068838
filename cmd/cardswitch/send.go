package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/internal/dialectio"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
	"github.com/spf13/cobra"
)

func newSend() *cobra.Command {
	o := &sendOpts{}
	cmd := &cobra.Command{
		Use:   "send --target ADDR --pan PAN --amount N [--mti 0100]",
		Short: "Send one message and print the response (PAN masked)",
		Long: `send builds one request from the flags, sends it and prints it and the
response (PAN masked, track and PIN data withheld).

--dialect D sends it in dialect D (see 'cardswitch dialects'): packed with
D's spec and framed with D's length header and header, the answer read and
printed in D. send does not map MTIs between 1987 and 1993: give the MTI
the host expects (--mti 1100, 1804 for a 1993 dialect). In a 1993 dialect,
field 12 is written as YYMMDDhhmmss, 13 is left out, and an x8xx message
carries the function code 831 (echo) in 24 instead of 70. In a TPDU dialect
the request carries --tpdu (default 6000010000: ID 60, destination NII 0001,
source NII 0000) and the answer's TPDU is printed.`,
		Example: `  cardswitch send --target 127.0.0.1:8583 --pan 4111111111111111 --amount 1000
  cardswitch send --target 127.0.0.1:8583 --pan 4111111111111111 --amount 1000 --field 32=123456 --field 48=ABC
  cardswitch send --target switch.example:8583 --tls-ca ca.pem --tls-cert acq.pem --tls-key acq.key --mti 0800
  cardswitch send --target 127.0.0.1:8600 --dialect iso87binary-tpdu --tpdu 6000120000 --pan 4111111111111111 --amount 1000
  cardswitch send --target 127.0.0.1:9101 --dialect iso93ascii --mti 1100 --pan 4111111111111111 --amount 1000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	r := &o.r
	f := cmd.Flags()
	f.StringVar(&o.target, "target", "127.0.0.1:8583", "switch (or issuer) address")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "how long to wait for the response")
	f.StringVar(&r.MTI, "mti", "0100", "message type: 0100, 0200, 0400, 0420, 0800")
	f.StringVar(&r.PAN, "pan", "", "primary account number (field 2)")
	f.StringVar(&r.Track2, "track2", "", "track 2 data (field 35), e.g. 4111111111111111=2512101")
	f.Int64Var(&r.Amount, "amount", 0, "amount in minor units (field 4)")
	f.StringVar(&r.ProcessingCode, "processing-code", "000000", "field 3")
	f.IntVar(&r.STAN, "stan", 0, "STAN (field 11); default random")
	f.StringVar(&r.RRN, "rrn", "", "retrieval reference number (field 37); default random")
	f.StringVar(&r.Terminal, "terminal", "TERM0001", "terminal id (field 41, 8 characters)")
	f.StringVar(&r.Merchant, "merchant", "MERCHANT0000001", "merchant id (field 42, 15 characters)")
	f.StringVar(&r.Currency, "currency", "840", "currency code (field 49)")
	f.StringVar(&r.NetworkCode, "network-code", "301", "field 70 for 0800: 001 sign-on, 002 sign-off, 301 echo")
	f.StringArrayVar(&o.fields, "field", nil, "set field N to VALUE, N=VALUE (repeatable; any field 2..128, e.g. 32, 48, 90; "+
		"overrides the flags above; hex for binary fields)")
	f.StringVar(&o.dialect, "dialect", dialectio.Default, "the dialect to speak (see: cardswitch dialects)")
	f.StringVar(&o.configPath, "config", "", configFlagUsage)
	f.StringVar(&o.tpdu, "tpdu", "", "in a TPDU dialect: the request's TPDU in hex (default "+defaultTPDU+")")
	o.tls.add(f)
	return cmd
}

// sendOpts are send's flags.
type sendOpts struct {
	target  string
	timeout time.Duration
	r       acqclient.Request
	fields  []string // --field N=VALUE
	tls     tlsFlags
	dialect string
	tpdu    string
	// configPath is --config: a switch config whose user dialects
	// --dialect may name.
	configPath string
}

// run builds the message, refusing a bad field before connecting, sends
// it and prints the request and the response.
func (o *sendOpts) run(cmd *cobra.Command) error {
	if o.r.STAN == 0 {
		o.r.STAN = 1 + rand.IntN(999999)
	}
	if o.r.RRN == "" {
		o.r.RRN = fmt.Sprintf("%012d", rand.Int64N(1e12))
	}
	var err error
	if o.r.Fields, err = parseFieldFlags(o.fields); err != nil {
		return err
	}
	d, err := lookupDialect(o.dialect, o.configPath)
	if err != nil {
		return fmt.Errorf("--dialect: %w", err)
	}
	if d.Name != dialectio.Default || o.tpdu != "" {
		return o.runDialect(cmd, d)
	}
	req, err := o.r.Message()
	if err != nil {
		return sendBuildError(err, o.r.Fields)
	}
	// Pack before connecting: moov's pack errors may quote field
	// values, and the PAN must not reach the terminal in clear.
	if _, err := req.Pack(); err != nil {
		return errors.New("cannot build the message: check --pan, --track2 and the other field flags")
	}
	tc, err := o.tls.config(o.target)
	if err != nil {
		return err
	}
	c, err := acqclient.DialTLS(o.target, o.timeout, tc)
	if err != nil {
		return err
	}
	defer c.Close()
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "-> %s to %s\n", o.r.MTI, o.target)
	printFields(out, req)
	start := time.Now()
	resp, err := c.Send(req)
	if err != nil {
		return fmt.Errorf("no response: %w", err)
	}
	mti, _ := resp.GetMTI()
	code, _ := resp.GetString(39)
	fmt.Fprintf(out, "<- %s in %s: 39=%s %s\n", mti, time.Since(start).Round(time.Microsecond), code, iso.CodeText(code))
	printFields(out, resp)
	return nil
}

// parseFieldFlags reads the --field N=VALUE flags.
func parseFieldFlags(flags []string) (map[int]string, error) {
	out := make(map[int]string, len(flags))
	for _, fl := range flags {
		n, v, ok := strings.Cut(fl, "=")
		id, err := strconv.Atoi(n)
		if !ok || err != nil {
			return nil, fmt.Errorf("--field %q: want N=VALUE, N a field number", fl)
		}
		out[id] = v
	}
	return out, nil
}

// fieldFlagNames names the flag behind each field a flag sets.
var fieldFlagNames = map[int]string{2: "--pan", 3: "--processing-code", 4: "--amount", 11: "--stan", 35: "--track2",
	37: "--rrn", 41: "--terminal", 42: "--merchant", 49: "--currency", 70: "--network-code"}

// sendBuildError names the flag that set a refused field: --field N when
// given (it overrides), else the named flag.
func sendBuildError(err error, fields map[int]string) error {
	var fe *acqclient.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	flag := "--field " + strconv.Itoa(fe.Field)
	if _, given := fields[fe.Field]; !given && fieldFlagNames[fe.Field] != "" {
		flag = fieldFlagNames[fe.Field]
	}
	return fmt.Errorf("%s: %w", flag, err)
}

// printFields lists a message's fields as they are on the wire; card data
// is masked or withheld.
func printFields(w io.Writer, m *iso8583.Message) {
	packed, err := m.Pack()
	if err != nil {
		fmt.Fprintf(w, "   (cannot pack: %v)\n", err)
		return
	}
	sc, err := iso.NewScanner(iso.Spec87())
	if err != nil {
		return
	}
	var v iso.View
	_ = sc.Scan(packed, &v)
	for id := 2; id <= 128; id++ {
		if !v.Has(id) {
			continue
		}
		val := string(v.Field(id))
		switch id {
		case 2:
			val = iso.MaskPAN(v.Field(id))
		case 14: // expiry
			val = "[withheld]"
		default:
			if iso.IsSensitive(id) {
				val = "[withheld]"
			}
		}
		fmt.Fprintf(w, "   %3d  %s\n", id, val)
	}
}
