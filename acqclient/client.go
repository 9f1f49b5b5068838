// Package acqclient is a small acquirer-side client for the switch, built
// on moov-io's iso8583-connection so that it is independent of the
// switch's own framing and matching code. `cardswitch send` and the
// integration tests use it.
package acqclient

import (
	"fmt"
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
func Dial(addr string, timeout time.Duration) (*Client, error) {
	c, err := connection.New(addr, iso.Spec87(), iso.ReadLength, iso.WriteLength,
		connection.SendTimeout(timeout), connection.ConnectTimeout(timeout),
		// The switch does not send unsolicited messages; drop anything odd
		// instead of the library's default of logging it.
		connection.InboundMessageHandler(func(*connection.Connection, *iso8583.Message) {}),
		connection.ErrorHandler(func(error) {}),
	)
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
}

// Message builds the ISO 8583 message for r.
func (r Request) Message() (*iso8583.Message, error) {
	m := iso8583.NewMessage(iso.Spec87())
	mti := def(r.MTI, "0100")
	m.MTI(mti)
	now := r.Time
	if now.IsZero() {
		now = time.Now()
	}
	set := func(id int, v string) {
		if v != "" {
			_ = m.Field(id, v)
		}
	}
	set(7, now.UTC().Format("0102150405"))
	set(11, fmt.Sprintf("%06d", r.STAN))
	if mti[1] == '8' {
		set(70, def(r.NetworkCode, iso.NetEcho))
		return m, nil
	}
	set(2, r.PAN)
	set(3, def(r.ProcessingCode, "000000"))
	set(4, fmt.Sprintf("%012d", r.Amount))
	set(12, now.Format("150405"))
	set(13, now.Format("0102"))
	set(35, r.Track2)
	set(37, r.RRN)
	set(41, r.Terminal)
	set(42, r.Merchant)
	set(49, def(r.Currency, "840"))
	return m, nil
}

func def(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
