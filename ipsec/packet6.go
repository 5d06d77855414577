package ipsec

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// IPv6 (RFC 8200) shares the IP type with IPv4: Version is 6, TOS holds the Traffic
// Class, TTL the Hop Limit, and Protocol the upper-layer header (or ESP, AH, a tunnelled
// packet) that follows the extension headers kept whole in Ext. A Fragment header sets
// ID, Flags (FlagMF) and FragOff as IPv4's fields would, so that IsFragment holds for
// both.

// IPv6 Next Header values of the extension headers (RFC 8200, Section 4) and of ICMPv6
// (RFC 4443).
const (
	ProtoHopByHop uint8 = 0
	ProtoRouting  uint8 = 43
	ProtoFragment uint8 = 44
	ProtoICMPv6   uint8 = 58
	ProtoDestOpts uint8 = 60
)

// RFC 8200, Section 3: the fixed header.
const ipv6HeaderLen = 40

// isExtHeader reports whether a Next Header value is an extension header this package
// walks past (RFC 8200, Section 4.1). ESP and AH end the walk: they are IPsec's.
func isExtHeader(nh uint8) bool {
	return nh == ProtoHopByHop || nh == ProtoRouting || nh == ProtoFragment || nh == ProtoDestOpts
}

// extLen is the length of the extension header at the start of b, of type nh: 8 bytes
// for a Fragment header, (Hdr Ext Len + 1) * 8 for the others (RFC 8200, Sections 4.3
// to 4.6).
func extLen(nh uint8, b []byte) (int, error) {
	if len(b) < 8 {
		return 0, dropf(DropTruncated, "IPv6 %s header needs 8 bytes, have %d", ProtoName(nh), len(b))
	}
	n := 8
	if nh != ProtoFragment {
		n = (int(b[1]) + 1) * 8
	}
	if n > len(b) {
		return 0, dropf(DropTruncated, "IPv6 %s header of %d bytes, have %d", ProtoName(nh), n, len(b))
	}
	return n, nil
}

// ParseIP reads an IPv4 or an IPv6 packet, by its version.
func ParseIP(b []byte) (IPv4, error) {
	if len(b) > 0 && b[0]>>4 == 6 {
		return ParseIPv6(b)
	}
	return ParseIPv4(b)
}

// ParseIPv6 reads an IPv6 packet (RFC 8200, Section 3) and walks its extension headers
// (Section 4) to the first other header: Protocol is that header's type, Payload starts
// there, and Ext holds the extension headers. Ext and Payload alias b; bytes past the
// Payload Length are ignored.
func ParseIPv6(b []byte) (IPv4, error) {
	p := IPv4{Version: 6}
	if len(b) < ipv6HeaderLen {
		return p, dropf(DropTruncated, "IPv6 header needs 40 bytes, have %d", len(b))
	}
	word := binary.BigEndian.Uint32(b)
	p.TOS, p.FlowLabel = uint8(word>>20), word&0xfffff
	plen := int(binary.BigEndian.Uint16(b[4:]))
	nh := b[6]
	p.TTL = b[7]
	p.Src, p.Dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
	switch {
	case word>>28 != 6:
		return p, dropf(DropMalformed, "IP version %d, want 6", word>>28)
	case ipv6HeaderLen+plen > len(b):
		return p, dropf(DropTruncated, "IPv6 payload length %d, have %d bytes", plen, len(b)-ipv6HeaderLen)
	}
	body := b[ipv6HeaderLen : ipv6HeaderLen+plen]
	off := 0
	p.ExtType = nh
	for isExtHeader(nh) {
		n, err := extLen(nh, body[off:])
		if err != nil {
			return p, err
		}
		if nh == ProtoFragment {
			// RFC 8200, Section 4.5: Fragment Offset (13 bits), M flag, Identification.
			fo := binary.BigEndian.Uint16(body[off+2:])
			p.FragOff, p.ID = fo>>3, uint16(binary.BigEndian.Uint32(body[off+4:]))
			if fo&1 != 0 {
				p.Flags |= FlagMF
			}
		}
		nh = body[off]
		off += n
	}
	p.Protocol = nh
	p.Ext, p.Payload = body[:off], body[off:]
	if off == 0 {
		p.Ext = nil
	}
	return p, nil
}

// lastNextHeader is the offset in an IPv6 packet of the Next Header field that names
// the header after the extension headers: the base header's, or the last extension
// header's first byte. hl is the length of the base and extension headers.
func lastNextHeader(b []byte, hl int) int {
	at, nh, off := 6, b[6], ipv6HeaderLen
	for off < hl && isExtHeader(nh) {
		n, err := extLen(nh, b[off:hl])
		if err != nil {
			break
		}
		at, nh = off, b[off]
		off += n
	}
	return at
}

// putIPv6Header writes p's header and extension headers (HeaderLen bytes) into b with
// the Payload Length of a packet of total bytes (RFC 8200, Section 3).
func putIPv6Header(b []byte, p *IPv4, total int) {
	binary.BigEndian.PutUint32(b, 6<<28|uint32(p.TOS)<<20|p.FlowLabel&0xfffff)
	binary.BigEndian.PutUint16(b[4:], uint16(total-ipv6HeaderLen))
	b[6], b[7] = p.Protocol, p.TTL
	if len(p.Ext) > 0 {
		b[6] = p.ExtType
	}
	src, dst := p.Src.As16(), p.Dst.As16()
	copy(b[8:24], src[:])
	copy(b[24:40], dst[:])
	copy(b[ipv6HeaderLen:], p.Ext)
	if len(p.Ext) > 0 {
		b[lastNextHeader(b, p.HeaderLen())] = p.Protocol
	}
}

// fixIPHeader rewrites the length and the protocol of the IPv4 or IPv6 header (with its
// extension headers) at the start of b, hl bytes long: what ESP and AH do to the header
// they keep in transport mode.
func fixIPHeader(b []byte, hl, total int, proto uint8) {
	if b[0]>>4 != 6 {
		fixIPv4Header(b, hl, total, proto)
		return
	}
	binary.BigEndian.PutUint16(b[4:], uint16(total-ipv6HeaderLen))
	b[lastNextHeader(b, hl)] = proto
}

// Is6 reports whether the packet is IPv6.
func (p *IPv4) Is6() bool { return p.Version == 6 }

// ipProto is the protocol number of a packet tunnelled in another (RFC 2473, RFC 4213):
// 4 for IPv4, 41 for IPv6.
func ipProto(inner []byte) uint8 {
	if len(inner) > 0 && inner[0]>>4 == 6 {
		return ProtoIPv6
	}
	return ProtoIPIP
}

// pseudoHeaderSum6 is the partial checksum of the IPv6 pseudo-header (RFC 8200, Section
// 8.1): source and destination address, upper-layer length and Next Header.
func pseudoHeaderSum6(src, dst netip.Addr, proto uint8, length int) uint64 {
	s, d := src.As16(), dst.As16()
	var sum uint64
	for i := 0; i < 16; i += 2 {
		sum += uint64(binary.BigEndian.Uint16(s[i:])) + uint64(binary.BigEndian.Uint16(d[i:]))
	}
	return sum + uint64(length>>16) + uint64(length&0xffff) + uint64(proto)
}

// ICMPv6 message types (RFC 4443, Section 4).
const (
	ICMPv6EchoRequest uint8 = 128
	ICMPv6EchoReply   uint8 = 129
)

var icmpv6TypeNames = map[uint8]string{
	1: "Destination Unreachable", 2: "Packet Too Big", 3: "Time Exceeded", 4: "Parameter Problem",
	ICMPv6EchoRequest: "Echo Request", ICMPv6EchoReply: "Echo Reply",
}

// AppendV6 appends the message as ICMPv6 (RFC 4443) from src to dst: the same layout as
// ICMP, with the checksum over the IPv6 pseudo-header too (RFC 4443, Section 2.3).
func (m *ICMP) AppendV6(b []byte, src, dst netip.Addr) []byte {
	start := len(b)
	b = append(b, m.Type, m.Code, 0, 0)
	b = binary.BigEndian.AppendUint16(b, m.ID)
	b = binary.BigEndian.AppendUint16(b, m.Seq)
	b = append(b, m.Data...)
	binary.BigEndian.PutUint16(b[start+2:], checksum(b[start:], pseudoHeaderSum6(src, dst, ProtoICMPv6, len(b)-start)))
	return b
}

// ParseICMPv6 reads an ICMPv6 message (RFC 4443, Section 2.1) sent from src to dst; Data
// aliases b. A message whose checksum is wrong is returned with a DropChecksum error.
func ParseICMPv6(b []byte, src, dst netip.Addr) (ICMP, error) {
	m, err := ParseICMP(b)
	if err != nil && len(b) < icmpHeaderLen {
		return m, err
	}
	if checksum(b, pseudoHeaderSum6(src, dst, ProtoICMPv6, len(b))) != 0 {
		return m, dropf(DropChecksum, "ICMPv6 checksum 0x%04x is wrong", m.Checksum)
	}
	return m, nil
}

// newEchoRequest6 builds an IPv6 packet holding an ICMPv6 echo request (RFC 4443,
// Section 4.1) with Hop Limit 64.
func newEchoRequest6(src, dst netip.Addr, ident, seq uint16, data []byte) ([]byte, error) {
	m := ICMP{Type: ICMPv6EchoRequest, ID: ident, Seq: seq, Data: data}
	p := IPv4{Version: 6, TTL: defaultTTL, Protocol: ProtoICMPv6, Src: src, Dst: dst, Payload: m.AppendV6(nil, src, dst)}
	return p.Marshal()
}

// echoReply6 answers an ICMPv6 echo request (RFC 4443, Section 4.2): the identifier,
// sequence number and data come back from the request's destination.
func echoReply6(req *IPv4) ([]byte, error) {
	m, err := ParseICMPv6(req.Payload, req.Src, req.Dst)
	if err != nil {
		return nil, err
	}
	if m.Type != ICMPv6EchoRequest {
		return nil, fmt.Errorf("ipsec: ICMPv6 type %d is not an echo request", m.Type)
	}
	m.Type, m.Code = ICMPv6EchoReply, 0
	p := IPv4{Version: 6, TOS: req.TOS, TTL: defaultTTL, Protocol: ProtoICMPv6, Src: req.Dst, Dst: req.Src,
		Payload: m.AppendV6(nil, req.Dst, req.Src)}
	return p.Marshal()
}
