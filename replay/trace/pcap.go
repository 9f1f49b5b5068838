package trace

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// packetSource is what pcapgo's Reader and NgReader have in common.
type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// parseCapture reads a pcap or pcapng capture of ISO 8583 over TCP with
// a 2-byte length header. Every TCP direction is reassembled (any segment
// order, retransmissions dropped) and split into frames; frames with a
// request MTI become the trace, in capture-time order, and a response
// (request MTI + 10, same STAN, opposite direction) gives the expectation.
func parseCapture(r io.Reader, name string, format Format, log *slog.Logger) ([]Message, error) {
	src, linkType, err := openCapture(r, format)
	if err != nil {
		return nil, &Error{Name: name, Err: fmt.Errorf("%s: %w", format, err)}
	}
	asm := newAssembler()
	for n := 1; ; n++ {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &Error{Name: name, Line: n, Err: err, packet: true}
		}
		if seg, key, syn, ok := decodeTCP(data, linkType(ci)); ok {
			seg.ts, seg.packet = ci.Timestamp, n
			asm.add(key, seg, syn)
		}
	}
	frames, err := asm.frames(name, log)
	if err != nil {
		return nil, &Error{Name: name, Err: err}
	}
	return matchFrames(frames, name)
}

// openCapture returns the packet source and the link type of each packet
// (pcapng files may mix interfaces of different link types).
func openCapture(r io.Reader, format Format) (packetSource, func(gopacket.CaptureInfo) layers.LinkType, error) {
	if format == FormatPCAPNG {
		ng, err := pcapgo.NewNgReader(r, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, nil, err
		}
		return ng, func(ci gopacket.CaptureInfo) layers.LinkType {
			if intf, err := ng.Interface(ci.InterfaceIndex); err == nil {
				return intf.LinkType
			}
			return ng.LinkType()
		}, nil
	}
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return nil, nil, err
	}
	lt := pr.LinkType()
	return pr, func(gopacket.CaptureInfo) layers.LinkType { return lt }, nil
}

// decodeTCP extracts the TCP segment of a packet on a supported link type
// (Ethernet, Linux SLL, BSD null/loopback, raw IP), IPv4 or IPv6. ok is
// false for anything else (ARP, UDP, fragments...), which is skipped.
func decodeTCP(data []byte, lt layers.LinkType) (segment, flowKey, bool, bool) {
	var first gopacket.Decoder = lt
	if lt == layers.LinkTypeRaw || lt == layers.LinkType(12) { // 12: raw IP on some BSDs
		first = layers.LayerTypeIPv4
		if len(data) > 0 && data[0]>>4 == 6 {
			first = layers.LayerTypeIPv6
		}
	}
	pkt := gopacket.NewPacket(data, first, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	var src, dst netip.Addr
	switch ip := pkt.NetworkLayer().(type) {
	case *layers.IPv4:
		src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
	case *layers.IPv6:
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
	default:
		return segment{}, flowKey{}, false, false
	}
	tcp, ok := pkt.TransportLayer().(*layers.TCP)
	if !ok {
		return segment{}, flowKey{}, false, false
	}
	key := flowKey{
		src: netip.AddrPortFrom(src, uint16(tcp.SrcPort)),
		dst: netip.AddrPortFrom(dst, uint16(tcp.DstPort)),
	}
	seg := segment{seq: tcp.Seq}
	if !tcp.SYN {
		seg.data = tcp.Payload
	}
	return seg, key, tcp.SYN, true
}

// assembler keeps one stream per flow direction. A SYN with a new initial
// sequence number on a known flow starts a new connection (port reuse).
type assembler struct {
	live map[flowKey]*stream
	done []*stream
	n    int
}

func newAssembler() *assembler { return &assembler{live: map[flowKey]*stream{}} }

func (a *assembler) add(key flowKey, seg segment, syn bool) {
	s := a.live[key]
	if s != nil && syn && (!s.syn || s.isn != seg.seq) && len(s.segs) > 0 {
		a.done = append(a.done, s)
		s = nil
	}
	if s == nil {
		a.n++
		s = &stream{key: key, serial: a.n}
		a.live[key] = s
	}
	if syn {
		s.syn, s.isn = true, seg.seq
		return
	}
	if len(seg.data) > 0 {
		s.segs = append(s.segs, seg)
	}
}

// frames reassembles every stream and returns all frames, ordered by
// stream creation then position. A stream cut short by the end of the
// capture keeps its whole frames (the partial one is logged and dropped).
func (a *assembler) frames(name string, log *slog.Logger) ([]frame, error) {
	all := a.done
	for _, s := range a.live {
		all = append(all, s)
	}
	sortStreams(all)
	var out []frame
	for _, s := range all {
		buf, marks, err := s.reassemble()
		if err != nil {
			return nil, err
		}
		fs, err := s.split(buf, marks)
		if errors.Is(err, errPartialFrame) {
			log.Warn("trace: partial frame at end of capture dropped", "trace", name, "flow", s.key.String())
		}
		out = append(out, fs...)
	}
	return out, nil
}

// sortStreams restores the order in which streams first appeared.
func sortStreams(ss []*stream) {
	slices.SortFunc(ss, func(a, b *stream) int { return a.serial - b.serial })
}
