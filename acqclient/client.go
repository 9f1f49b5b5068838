// Package acqclient is a small acquirer-side client for the switch, built
// on moov-io's iso8583-connection so that it is independent of the
// switch's own framing and matching code. `cardswitch send` and the
// integration tests use it.
package acqclient

import (
	"crypto/tls"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	connection "github.com/moov-io/iso8583-connection"

	"github.com/moov-io/iso8583"
)

// Client is one persistent acquirer connection.
type Client struct {
	conn *connection.Connection
}

// Dial connects to the switch at addr; each Send waits at most timeout.
func Dial(addr string, timeout time.Duration) (*Client, error) { return DialTLS(addr, timeout, nil) }

// DialTLS is Dial over TLS with cfg (nil: plain TCP).
func DialTLS(addr string, timeout time.Duration, cfg *tls.Config) (*Client, error) {
	opts := []connection.Option{
		connection.SendTimeout(timeout), connection.ConnectTimeout(timeout),
		// The switch does not send unsolicited messages; drop anything odd
		// instead of the library's default of logging it.
		connection.InboundMessageHandler(func(*connection.Connection, *iso8583.Message) {}),
		connection.ErrorHandler(func(error) {}),
	}
	if cfg != nil {
		opts = append(opts, connection.SetTLSConfig(func(c *tls.Config) {
			c.MinVersion, c.CipherSuites, c.ServerName = cfg.MinVersion, cfg.CipherSuites, cfg.ServerName
			c.RootCAs, c.Certificates = cfg.RootCAs, cfg.Certificates
		}))
	}
	c, err := connection.New(addr, iso.Spec87(), iso.ReadLength, iso.WriteLength, opts...)
	if err != nil {
		return nil, err
	}
	if err := c.Connect(); err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	return &Client{conn: c}, nil
}

// Send sends m and returns the response matched by STAN (field 11).
func (c *Client) Send(m *iso8583.Message) (*iso8583.Message, error) {
	return c.conn.Send(m)
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Request describes a message to build; empty fields are left out.
type Request struct {
	MTI            string // default 0100
	PAN            string // field 2
	Track2         string // field 35
	ProcessingCode string // field 3, default 000000
	Amount         int64  // field 4 (minor units)
	STAN           int    // field 11, 1..999999
	RRN            string // field 37
	Terminal       string // field 41
	Merchant       string // field 42
	Currency       string // field 49, default 840
	NetworkCode    string // field 70, for 0800
	Time           time.Time
	// Fields sets any field by number (2..128), after the ones above,
	// which it overrides: text as the spec packs it, hex for binary fields.
	Fields map[int]string
}

// Message builds the ISO 8583 message for r. A value the spec refuses is
// a *FieldError naming its field and the rule.
func (r Request) Message() (*iso8583.Message, error) { return r.MessageIn(iso.Spec87(), 1987) }

// MessageIn builds the message for r with spec, a spec of ISO 8583
// version 1987 or 1993. The MTI is taken as given (no 1987/1993
// mapping); the version decides the layouts the defaults are written in:
// in 1993, 12 is the local date and time (YYMMDDhhmmss), 13 is not set,
// and a network management message (x8xx) carries the function code 831
// (echo) in 24 instead of 70.
func (r Request) MessageIn(spec *iso8583.MessageSpec, version int) (*iso8583.Message, error) {
	m := iso8583.NewMessage(spec)
	mti := def(r.MTI, "0100")
	m.MTI(mti)
	now := r.Time
	if now.IsZero() {
		now = time.Now()
	}
	var err error
	set := func(id int, v string) {
		if v != "" && err == nil {
			err = setField(m, id, v)
		}
	}
	set(7, now.UTC().Format("0102150405"))
	set(11, fmt.Sprintf("%06d", r.STAN))
	if len(mti) == 4 && mti[1] == '8' {
		if version == 1993 {
			set(24, funcEcho93)
		} else {
			set(70, def(r.NetworkCode, iso.NetEcho))
		}
		return r.extra(m, err)
	}
	set(2, r.PAN)
	set(3, def(r.ProcessingCode, "000000"))
	set(4, fmt.Sprintf("%012d", r.Amount))
	if version == 1993 {
		set(12, now.Format("060102150405"))
	} else {
		set(12, now.Format("150405"))
		set(13, now.Format("0102"))
	}
	set(35, r.Track2)
	set(37, r.RRN)
	set(41, r.Terminal)
	set(42, r.Merchant)
	set(49, def(r.Currency, "840"))
	return r.extra(m, err)
}

// funcEcho93 is the 1993 function code (24) of an echo test.
const funcEcho93 = "831"

// extra sets r.Fields in field order, so that the first bad one is the
// one reported whatever the map's order.
func (r Request) extra(m *iso8583.Message, err error) (*iso8583.Message, error) {
	ids := slices.Sorted(maps.Keys(r.Fields))
	for _, id := range ids {
		if err != nil {
			break
		}
		err = setField(m, id, r.Fields[id])
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func def(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
