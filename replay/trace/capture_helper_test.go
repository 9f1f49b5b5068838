package trace

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/require"
)

// capPacket is one TCP segment of a synthetic capture.
type capPacket struct {
	ts       time.Time
	src, dst netip.AddrPort
	seq      uint32
	syn, ack bool
	payload  []byte
}

// capConn writes the segments of one TCP connection: seq numbers advance
// per direction as on a real wire, and send/sendParts choose how a byte
// stream is cut into segments.
type capConn struct {
	cli, srv   netip.AddrPort
	cseq, sseq uint32 // next sequence number per direction
	now        time.Time
	pkts       []capPacket
}

func newCapConn(cli, srv string, start time.Time) *capConn {
	c := &capConn{cli: netip.MustParseAddrPort(cli), srv: netip.MustParseAddrPort(srv), cseq: 1000, sseq: 5000, now: start}
	c.add(true, c.cseq, nil, true)
	c.add(false, c.sseq, nil, true)
	c.cseq++
	c.sseq++
	c.add(true, c.cseq, nil, false)
	return c
}

func (c *capConn) add(fromCli bool, seq uint32, payload []byte, syn bool) {
	src, dst := c.cli, c.srv
	if !fromCli {
		src, dst = dst, src
	}
	c.now = c.now.Add(time.Millisecond)
	c.pkts = append(c.pkts, capPacket{ts: c.now, src: src, dst: dst, seq: seq, syn: syn, ack: !syn || !fromCli, payload: payload})
}

// framed prepends the 2-byte length header.
func framed(body []byte) []byte {
	return binary.BigEndian.AppendUint16(nil, uint16(len(body))) //nolint:gosec // test frames are small
}

// send writes the frame body as one segment.
func (c *capConn) send(fromCli bool, body []byte) {
	c.sendParts(fromCli, append(framed(body), body...), nil)
}

// sendParts writes data cut at the given offsets; order lists the parts
// in the order they hit the capture (nil: in order). A part index given
// twice is a retransmission.
func (c *capConn) sendParts(fromCli bool, data []byte, cuts []int, order ...int) {
	seq := &c.sseq
	if fromCli {
		seq = &c.cseq
	}
	bounds := append(append([]int{0}, cuts...), len(data))
	if len(order) == 0 {
		for i := range len(bounds) - 1 {
			order = append(order, i)
		}
	}
	for _, i := range order {
		c.add(fromCli, *seq+uint32(bounds[i]), data[bounds[i]:bounds[i+1]], false) //nolint:gosec // small test data
	}
	*seq += uint32(len(data)) //nolint:gosec // small test data
}

// linkEncoder serializes an IP packet for one link type.
type linkEncoder struct {
	link layers.LinkType
	wrap func(ipv6 bool) []gopacket.SerializableLayer // link-level layers before IP
	raw  func(ip []byte, ipv6 bool) []byte            // or a hand-made header
}

var (
	linkEthernet = linkEncoder{link: layers.LinkTypeEthernet, wrap: func(ipv6 bool) []gopacket.SerializableLayer {
		et := layers.EthernetTypeIPv4
		if ipv6 {
			et = layers.EthernetTypeIPv6
		}
		return []gopacket.SerializableLayer{&layers.Ethernet{
			SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: et,
		}}
	}}
	linkNull = linkEncoder{link: layers.LinkTypeNull, wrap: func(ipv6 bool) []gopacket.SerializableLayer {
		fam := layers.ProtocolFamilyIPv4
		if ipv6 {
			fam = layers.ProtocolFamilyIPv6BSD
		}
		return []gopacket.SerializableLayer{&layers.Loopback{Family: fam}}
	}}
	// Linux cooked capture v1: gopacket cannot serialize it, so the 16-byte
	// header is written by hand.
	linkSLL = linkEncoder{link: layers.LinkTypeLinuxSLL, raw: func(ip []byte, ipv6 bool) []byte {
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[2:], 772) // ARPHRD_LOOPBACK
		binary.BigEndian.PutUint16(h[4:], 6)
		proto := uint16(layers.EthernetTypeIPv4)
		if ipv6 {
			proto = uint16(layers.EthernetTypeIPv6)
		}
		binary.BigEndian.PutUint16(h[14:], proto)
		return append(h, ip...)
	}}
)

// encode serializes p on link enc.
func (enc linkEncoder) encode(t *testing.T, p capPacket) []byte {
	t.Helper()
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(p.src.Port()), DstPort: layers.TCPPort(p.dst.Port()),
		Seq: p.seq, Ack: 1, SYN: p.syn, ACK: p.ack, PSH: len(p.payload) > 0, Window: 65535,
	}
	ipv6 := p.src.Addr().Is6()
	var ip gopacket.SerializableLayer
	if ipv6 {
		l := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: p.src.Addr().AsSlice(), DstIP: p.dst.Addr().AsSlice()}
		require.NoError(t, tcp.SetNetworkLayerForChecksum(l))
		ip = l
	} else {
		l := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: p.src.Addr().AsSlice(), DstIP: p.dst.Addr().AsSlice()}
		require.NoError(t, tcp.SetNetworkLayerForChecksum(l))
		ip = l
	}
	var ls []gopacket.SerializableLayer
	if enc.wrap != nil {
		ls = enc.wrap(ipv6)
	}
	ls = append(ls, ip, tcp, gopacket.Payload(p.payload))
	buf := gopacket.NewSerializeBuffer()
	require.NoError(t, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...))
	if enc.raw != nil {
		return enc.raw(buf.Bytes(), ipv6)
	}
	return buf.Bytes()
}

// writePCAP returns a pcap file of pkts.
func writePCAP(t *testing.T, enc linkEncoder, pkts []capPacket) []byte {
	t.Helper()
	var out bytes.Buffer
	w := pcapgo.NewWriter(&out)
	require.NoError(t, w.WriteFileHeader(65535, enc.link))
	for _, p := range pkts {
		data := enc.encode(t, p)
		require.NoError(t, w.WritePacket(gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(data), Length: len(data)}, data))
	}
	return out.Bytes()
}

// writePCAPNG returns a pcapng file of pkts, with fixed section options
// so that the output does not depend on the machine.
func writePCAPNG(t *testing.T, enc linkEncoder, pkts []capPacket) []byte {
	t.Helper()
	var out bytes.Buffer
	intf := pcapgo.NgInterface{Name: "lo0", LinkType: enc.link, TimestampResolution: 9}
	w, err := pcapgo.NewNgWriterInterface(&out, intf, pcapgo.NgWriterOptions{
		SectionInfo: pcapgo.NgSectionInfo{Application: "cardswitch trace fixtures"},
	})
	require.NoError(t, err)
	for _, p := range pkts {
		data := enc.encode(t, p)
		require.NoError(t, w.WritePacket(gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(data), Length: len(data)}, data))
	}
	require.NoError(t, w.Flush())
	return out.Bytes()
}
