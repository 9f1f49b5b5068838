package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// flowKey is one direction of a TCP connection.
type flowKey struct {
	src, dst netip.AddrPort
}

func (k flowKey) reverse() flowKey { return flowKey{src: k.dst, dst: k.src} }

func (k flowKey) String() string { return k.src.String() + "->" + k.dst.String() }

// segment is the payload of one captured TCP segment.
type segment struct {
	seq    uint32
	data   []byte
	ts     time.Time
	packet int // 1-based packet number in the capture
}

// stream collects the segments of one flow direction; reassembly happens
// once the whole capture is read, so any arrival order works.
type stream struct {
	key    flowKey
	isn    uint32 // SYN sequence number, valid when syn
	syn    bool
	segs   []segment
	serial int // order of first appearance, for stable output
}

// frame is one length-prefixed ISO 8583 message found in a stream.
type frame struct {
	flow   flowKey
	data   []byte
	ts     time.Time
	packet int
}

// mark ties a byte offset of the reassembled stream to its segment.
type mark struct {
	end    int // offset just past this segment's new bytes
	ts     time.Time
	packet int
}

// reassemble orders the segments by sequence number, drops retransmitted
// bytes and returns the contiguous byte stream with its marks. A hole
// (a segment never captured) is an error: the frames after it cannot be
// delimited reliably.
func (s *stream) reassemble() ([]byte, []mark, error) {
	if len(s.segs) == 0 {
		return nil, nil, nil
	}
	base := s.base()
	// Stable: for the same sequence number the first capture wins.
	slices.SortStableFunc(s.segs, func(a, b segment) int {
		oa, ob := a.seq-base, b.seq-base
		switch {
		case oa < ob:
			return -1
		case oa > ob:
			return 1
		}
		return 0
	})
	var (
		buf   []byte
		marks []mark
	)
	for _, sg := range s.segs {
		off := int(sg.seq - base)
		if off > len(buf) {
			return nil, nil, fmt.Errorf("flow %s: %d bytes missing before packet %d (segment not captured)",
				s.key, off-len(buf), sg.packet)
		}
		if fresh := off + len(sg.data) - len(buf); fresh > 0 {
			buf = append(buf, sg.data[len(sg.data)-fresh:]...)
			marks = append(marks, mark{end: len(buf), ts: sg.ts, packet: sg.packet})
		}
	}
	return buf, marks, nil
}

// base is the sequence number of the first payload byte: after the SYN
// when it was captured, else the lowest sequence number seen (the capture
// started mid-connection).
func (s *stream) base() uint32 {
	if s.syn {
		return s.isn + 1
	}
	first := s.segs[0].seq
	low := first
	for _, sg := range s.segs[1:] {
		if int32(sg.seq-low) < 0 { // #nosec G115 -- wrap-around comparison on purpose
			low = sg.seq
		}
	}
	return low
}

// errPartialFrame reports bytes at the end of a stream that do not form a
// whole frame (the capture stopped mid-message).
var errPartialFrame = errors.New("partial frame at end of stream")

// split cuts the reassembled stream into frames on the 2-byte big-endian
// length header. Each frame takes the time of the segment that carried
// its first byte. A partial trailing frame is returned with the frames
// found before it and errPartialFrame.
func (s *stream) split(buf []byte, marks []mark) ([]frame, error) {
	var (
		out []frame
		m   int
	)
	for off := 0; off < len(buf); {
		if len(buf)-off < 2 {
			return out, errPartialFrame
		}
		n := int(binary.BigEndian.Uint16(buf[off:]))
		if off+2+n > len(buf) {
			return out, errPartialFrame
		}
		for marks[m].end <= off {
			m++
		}
		if n > 0 { // empty frames: keep-alives, nothing to replay
			data := slices.Clone(buf[off+2 : off+2+n])
			out = append(out, frame{flow: s.key, data: data, ts: marks[m].ts, packet: marks[m].packet})
		}
		off += 2 + n
	}
	return out, nil
}
