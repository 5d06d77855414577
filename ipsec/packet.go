package ipsec

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"golang.org/x/crypto/cryptobyte"

	"github.com/ikesim/ikesim/ike"
)

// IP protocol numbers (IANA "Assigned Internet Protocol Numbers"), as they appear in the
// IPv4 Protocol field and in ESP's Next Header.
const (
	ProtoICMP uint8 = 1
	ProtoIPIP uint8 = 4 // IPv4 in IPv4: the Next Header of a tunnel mode ESP packet
	ProtoTCP  uint8 = 6
	ProtoUDP  uint8 = 17
	ProtoIPv6 uint8 = 41
	ProtoESP  uint8 = 50
	ProtoAH   uint8 = 51
	ProtoNone uint8 = 59 // "no next header": an ESP dummy packet (RFC 4303, Section 2.6)
)

var protoNames = map[uint8]string{
	ProtoICMP: "ICMP", ProtoIPIP: "IPv4", ProtoTCP: "TCP", ProtoUDP: "UDP",
	ProtoIPv6: "IPv6", ProtoESP: "ESP", ProtoAH: "AH", ProtoNone: "No Next Header",
	ProtoHopByHop: "Hop-by-Hop Options", ProtoRouting: "Routing", ProtoFragment: "Fragment",
	ProtoICMPv6: "ICMPv6", ProtoDestOpts: "Destination Options",
}

// ProtoName is the IANA keyword of an IP protocol number, or its number.
func ProtoName(p uint8) string {
	if s, ok := protoNames[p]; ok {
		return s
	}
	return fmt.Sprint(p)
}

// Well-known ports of IKE and of UDP-encapsulated ESP, as the packet codecs compare them:
// ike's constants, typed as a UDP header's port.
const (
	PortIKE  uint16 = ike.PortIKE
	PortNATT uint16 = ike.PortNATT // IKE with the non-ESP marker, and ESP-in-UDP (RFC 3948)
)

// RFC 791, Section 3.1: the fixed part of the Internet Header.
const (
	ipv4HeaderLen    = 20
	ipv4MaxHeaderLen = 60
	ipv4MaxLen       = 0xffff
	defaultTTL       = 64
)

// Flags of the IPv4 header (RFC 791, Section 3.1): bit 0 is reserved.
const (
	FlagDF uint8 = 0x2 // Don't Fragment
	FlagMF uint8 = 0x1 // More Fragments
)

// IPv4 is an IP packet: its header (RFC 791, Section 3.1) and its payload. With Version
// 6 it is an IPv6 packet (RFC 8200), whose fields packet6.go describes.
type IPv4 struct {
	Version  uint8  // 6 for IPv6; 0 or 4 for IPv4
	TOS      uint8  // Type of Service: DSCP (6 bits) and ECN (2 bits)
	ID       uint16 // Identification
	Flags    uint8  // FlagDF, FlagMF
	FragOff  uint16 // Fragment Offset in units of 8 bytes
	TTL      uint8  // Time to Live
	Protocol uint8
	Checksum uint16 // as received; Marshal computes its own
	Src, Dst netip.Addr
	Options  []byte // a multiple of 4 bytes, at most 40
	Payload  []byte
	// IPv6 only: the Flow Label, the extension headers as on the wire and the type of
	// the first of them.
	FlowLabel uint32
	Ext       []byte
	ExtType   uint8
}

// HeaderLen is the length of the header with its options (IPv6: with its extension
// headers).
func (p *IPv4) HeaderLen() int {
	if p.Is6() {
		return ipv6HeaderLen + len(p.Ext)
	}
	return ipv4HeaderLen + len(p.Options)
}

// IsFragment reports whether the packet is a fragment (MF set or a non-zero offset).
func (p *IPv4) IsFragment() bool { return p.Flags&FlagMF != 0 || p.FragOff != 0 }

// Marshal returns the packet with its header checksum computed.
func (p *IPv4) Marshal() ([]byte, error) {
	return p.Append(make([]byte, 0, p.HeaderLen()+len(p.Payload)))
}

// Append appends the packet to b.
func (p *IPv4) Append(b []byte) ([]byte, error) {
	total := p.HeaderLen() + len(p.Payload)
	if err := p.check(total); err != nil {
		return nil, err
	}
	start := len(b)
	b = append(b, make([]byte, p.HeaderLen())...)
	if p.Is6() {
		putIPv6Header(b[start:], p, total)
	} else {
		putIPv4Header(b[start:], p, total)
	}
	return append(b, p.Payload...), nil
}

func (p *IPv4) check(total int) error {
	if p.Is6() {
		switch {
		case !p.Src.Is6() || !p.Dst.Is6() || p.Src.Is4In6() || p.Dst.Is4In6():
			return fmt.Errorf("ipsec: IPv6 packet needs IPv6 addresses, have %v -> %v", p.Src, p.Dst)
		case total-ipv6HeaderLen > ipv4MaxLen:
			return fmt.Errorf("ipsec: IPv6 payload of %d bytes exceeds 65535", total-ipv6HeaderLen)
		case len(p.Ext)%8 != 0:
			return fmt.Errorf("ipsec: IPv6 extension headers of %d bytes are not a multiple of 8", len(p.Ext))
		}
		return nil
	}
	switch {
	case !p.Src.Is4() || !p.Dst.Is4():
		return fmt.Errorf("ipsec: IPv4 packet needs IPv4 addresses, have %v -> %v", p.Src, p.Dst)
	case len(p.Options)%4 != 0 || len(p.Options) > ipv4MaxHeaderLen-ipv4HeaderLen:
		return fmt.Errorf("ipsec: IPv4 options must be a multiple of 4 bytes up to 40, have %d", len(p.Options))
	case total > ipv4MaxLen:
		return fmt.Errorf("ipsec: IPv4 packet of %d bytes exceeds 65535", total)
	case p.FragOff > 0x1fff || p.Flags > 7:
		return fmt.Errorf("ipsec: IPv4 flags %#x / fragment offset %d out of range", p.Flags, p.FragOff)
	}
	return nil
}

// putIPv4Header writes p's header (HeaderLen bytes) into b with the given Total Length and
// the header checksum (RFC 791, Section 3.1).
func putIPv4Header(b []byte, p *IPv4, total int) {
	hl := p.HeaderLen()
	b[0] = 0x40 | byte(hl/4)
	b[1] = p.TOS
	binary.BigEndian.PutUint16(b[2:], uint16(total))
	binary.BigEndian.PutUint16(b[4:], p.ID)
	binary.BigEndian.PutUint16(b[6:], uint16(p.Flags)<<13|p.FragOff)
	b[8] = p.TTL
	b[9] = p.Protocol
	b[10], b[11] = 0, 0
	src, dst := p.Src.As4(), p.Dst.As4()
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	copy(b[20:hl], p.Options)
	binary.BigEndian.PutUint16(b[10:], checksum(b[:hl], 0))
}

// fixIPv4Header rewrites the Total Length and Protocol of the header at the start of b
// and recomputes its checksum; hl is the header length.
func fixIPv4Header(b []byte, hl, total int, proto uint8) {
	binary.BigEndian.PutUint16(b[2:], uint16(total))
	b[9] = proto
	b[10], b[11] = 0, 0
	binary.BigEndian.PutUint16(b[10:], checksum(b[:hl], 0))
}

// ParseIPv4 reads an IPv4 packet (RFC 791, Section 3.1). Options and Payload alias b;
// bytes past the Total Length (link padding) are ignored. A packet whose header checksum
// is wrong is returned in full together with a DropChecksum error.
func ParseIPv4(b []byte) (IPv4, error) {
	var p IPv4
	if len(b) < ipv4HeaderLen {
		return p, dropf(DropTruncated, "IPv4 header needs 20 bytes, have %d", len(b))
	}
	var verIHL uint8
	var total, frag uint16
	var src, dst [4]byte
	s := cryptobyte.String(b)
	if !s.ReadUint8(&verIHL) || !s.ReadUint8(&p.TOS) || !s.ReadUint16(&total) ||
		!s.ReadUint16(&p.ID) || !s.ReadUint16(&frag) || !s.ReadUint8(&p.TTL) ||
		!s.ReadUint8(&p.Protocol) || !s.ReadUint16(&p.Checksum) ||
		!s.CopyBytes(src[:]) || !s.CopyBytes(dst[:]) {
		return p, dropf(DropTruncated, "IPv4 header cut short")
	}
	p.Flags, p.FragOff = uint8(frag>>13), frag&0x1fff
	p.Src, p.Dst = netip.AddrFrom4(src), netip.AddrFrom4(dst)
	hl := int(verIHL&0x0f) * 4
	switch {
	case verIHL>>4 != 4:
		return p, dropf(DropMalformed, "IP version %d, want 4", verIHL>>4)
	case hl < ipv4HeaderLen:
		return p, dropf(DropMalformed, "IPv4 header length %d is under 20", hl)
	case int(total) < hl:
		return p, dropf(DropMalformed, "IPv4 total length %d is under the header length %d", total, hl)
	case len(b) < int(total):
		return p, dropf(DropTruncated, "IPv4 total length %d, have %d bytes", total, len(b))
	}
	p.Options = b[ipv4HeaderLen:hl]
	p.Payload = b[hl:total]
	if c := checksum(b[:hl], 0); c != 0 {
		return p, dropf(DropChecksum, "IPv4 header checksum 0x%04x is wrong", p.Checksum)
	}
	return p, nil
}

// checksum is the Internet checksum of RFC 1071 over b, starting from the partial sum
// sum (a pseudo-header): the ones' complement of the ones' complement sum of the 16-bit
// words. Over a header that holds its own correct checksum the result is 0.
func checksum(b []byte, sum uint64) uint16 {
	for len(b) >= 8 {
		sum += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	for len(b) >= 2 {
		sum += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// pseudoHeaderSum is the partial checksum of the UDP pseudo-header (RFC 768): source and
// destination address, zero, protocol and UDP length.
func pseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) uint64 {
	if src.Is6() {
		return pseudoHeaderSum6(src, dst, proto, length)
	}
	s, d := src.As4(), dst.As4()
	return uint64(binary.BigEndian.Uint16(s[:2])) + uint64(binary.BigEndian.Uint16(s[2:])) +
		uint64(binary.BigEndian.Uint16(d[:2])) + uint64(binary.BigEndian.Uint16(d[2:])) +
		uint64(proto) + uint64(length)
}

// ICMP message types (RFC 792).
const (
	ICMPEchoReply       uint8 = 0
	ICMPDestUnreachable uint8 = 3
	ICMPEchoRequest     uint8 = 8
	ICMPTimeExceeded    uint8 = 11
)

var icmpTypeNames = map[uint8]string{
	ICMPEchoReply: "Echo Reply", ICMPDestUnreachable: "Destination Unreachable",
	ICMPEchoRequest: "Echo Request", ICMPTimeExceeded: "Time Exceeded",
}

const icmpHeaderLen = 8

// ICMP is an ICMP message (RFC 792). ID and Seq are the Identifier and Sequence Number of
// an echo or echo reply; for other types they hold the four bytes after the checksum
// (unused, or a pointer or next-hop MTU).
type ICMP struct {
	Type, Code uint8
	Checksum   uint16 // as received; Append computes its own
	ID, Seq    uint16
	Data       []byte
}

// Marshal returns the message with its checksum computed.
func (m *ICMP) Marshal() []byte { return m.Append(make([]byte, 0, icmpHeaderLen+len(m.Data))) }

// Append appends the message to b.
//
// RFC 792, "Echo or Echo Reply Message": the checksum is the 16-bit ones' complement of
// the ones' complement sum of the ICMP message starting with the ICMP Type.
func (m *ICMP) Append(b []byte) []byte {
	start := len(b)
	b = append(b, m.Type, m.Code, 0, 0)
	b = binary.BigEndian.AppendUint16(b, m.ID)
	b = binary.BigEndian.AppendUint16(b, m.Seq)
	b = append(b, m.Data...)
	binary.BigEndian.PutUint16(b[start+2:], checksum(b[start:], 0))
	return b
}

// ParseICMP reads an ICMP message (RFC 792); Data aliases b. A message whose checksum is
// wrong is returned in full together with a DropChecksum error.
func ParseICMP(b []byte) (ICMP, error) {
	var m ICMP
	s := cryptobyte.String(b)
	if !s.ReadUint8(&m.Type) || !s.ReadUint8(&m.Code) || !s.ReadUint16(&m.Checksum) ||
		!s.ReadUint16(&m.ID) || !s.ReadUint16(&m.Seq) {
		return m, dropf(DropTruncated, "ICMP header needs 8 bytes, have %d", len(b))
	}
	m.Data = b[icmpHeaderLen:]
	if checksum(b, 0) != 0 {
		return m, dropf(DropChecksum, "ICMP checksum 0x%04x is wrong", m.Checksum)
	}
	return m, nil
}

// NewEchoRequest builds an IPv4 packet holding an ICMP echo request (RFC 792) with TTL 64.
// From IPv6 addresses it is an ICMPv6 echo request in IPv6 (RFC 4443, Section 4.1).
func NewEchoRequest(src, dst netip.Addr, ipID, ident, seq uint16, data []byte) ([]byte, error) {
	if src.Is6() {
		return newEchoRequest6(src, dst, ident, seq, data)
	}
	m := ICMP{Type: ICMPEchoRequest, ID: ident, Seq: seq, Data: data}
	p := IPv4{ID: ipID, TTL: defaultTTL, Protocol: ProtoICMP, Src: src, Dst: dst, Payload: m.Marshal()}
	return p.Marshal()
}

// EchoReply answers an IPv4 packet holding an ICMP echo request: an echo reply with the
// same identifier, sequence number and data, from the request's destination to its
// source, with the request's TOS, TTL 64 and the Identification ipID (RFC 792, "Echo or
// Echo Reply Message": "the source and destination addresses are simply reversed, the
// type code changed to 0, and the checksum recomputed").
//
// An ICMPv6 echo request in IPv6 gets an ICMPv6 echo reply (RFC 4443, Section 4.2).
func EchoReply(request []byte, ipID uint16) ([]byte, error) {
	req, err := ParseIP(request)
	if err != nil {
		return nil, err
	}
	if req.Is6() && req.Protocol == ProtoICMPv6 && !req.IsFragment() {
		return echoReply6(&req)
	}
	if req.Protocol != ProtoICMP {
		return nil, fmt.Errorf("ipsec: echo reply to a %s packet", ProtoName(req.Protocol))
	}
	if req.IsFragment() {
		return nil, dropf(DropFragment, "echo request is a fragment")
	}
	m, err := ParseICMP(req.Payload)
	if err != nil {
		return nil, err
	}
	if m.Type != ICMPEchoRequest {
		return nil, fmt.Errorf("ipsec: ICMP type %d is not an echo request", m.Type)
	}
	m.Type, m.Code = ICMPEchoReply, 0
	p := IPv4{TOS: req.TOS, ID: ipID, TTL: defaultTTL, Protocol: ProtoICMP,
		Src: req.Dst, Dst: req.Src, Payload: m.Marshal()}
	return p.Marshal()
}

const udpHeaderLen = 8

// UDP is a UDP datagram (RFC 768).
type UDP struct {
	SrcPort, DstPort uint16
	Checksum         uint16 // as received; Append computes its own
	Payload          []byte
}

// Append appends the datagram to b with its checksum over the pseudo-header of src and
// dst (RFC 768). A computed checksum of zero is sent as 0xFFFF, since zero means "no
// checksum".
func (u *UDP) Append(b []byte, src, dst netip.Addr) ([]byte, error) {
	n := udpHeaderLen + len(u.Payload)
	if n > ipv4MaxLen-ipv4HeaderLen {
		return nil, fmt.Errorf("ipsec: UDP datagram of %d bytes is too long", n)
	}
	if !(src.Is4() && dst.Is4()) && !(src.Is6() && dst.Is6()) {
		return nil, fmt.Errorf("ipsec: UDP checksum needs two IPv4 or two IPv6 addresses, have %v -> %v", src, dst)
	}
	start := len(b)
	b = append(b, make([]byte, udpHeaderLen)...)
	putUDPHeader(b[start:], u.SrcPort, u.DstPort, n)
	b = append(b, u.Payload...)
	binary.BigEndian.PutUint16(b[start+6:], udpChecksum(b[start:], src, dst))
	return b, nil
}

// udpChecksum is the checksum of the UDP datagram u (its checksum field zero) from src to
// dst (RFC 768; RFC 8200, Section 8.1). A computed checksum of zero is sent as 0xFFFF,
// since zero means "no checksum".
func udpChecksum(u []byte, src, dst netip.Addr) uint16 {
	c := checksum(u, pseudoHeaderSum(src, dst, ProtoUDP, len(u)))
	if c == 0 {
		c = 0xffff
	}
	return c
}

// putUDPHeader writes a UDP header (RFC 768) with a zero checksum.
func putUDPHeader(b []byte, src, dst uint16, length int) {
	binary.BigEndian.PutUint16(b, src)
	binary.BigEndian.PutUint16(b[2:], dst)
	binary.BigEndian.PutUint16(b[4:], uint16(length))
	b[6], b[7] = 0, 0
}

// ParseUDP reads a UDP datagram (RFC 768) carried from src to dst; Payload aliases b and
// ends at the UDP Length. A non-zero checksum is verified against the pseudo-header; a
// datagram whose checksum is wrong is returned in full with a DropChecksum error. Pass
// invalid addresses to skip the check.
func ParseUDP(b []byte, src, dst netip.Addr) (UDP, error) {
	var u UDP
	var length uint16
	s := cryptobyte.String(b)
	if !s.ReadUint16(&u.SrcPort) || !s.ReadUint16(&u.DstPort) || !s.ReadUint16(&length) ||
		!s.ReadUint16(&u.Checksum) {
		return u, dropf(DropTruncated, "UDP header needs 8 bytes, have %d", len(b))
	}
	switch {
	case length < udpHeaderLen:
		return u, dropf(DropMalformed, "UDP length %d is under 8", length)
	case int(length) > len(b):
		return u, dropf(DropTruncated, "UDP length %d, have %d bytes", length, len(b))
	}
	u.Payload = b[udpHeaderLen:length]
	if u.Checksum != 0 && src.IsValid() && dst.IsValid() && src.Is4() == dst.Is4() &&
		checksum(b[:length], pseudoHeaderSum(src, dst, ProtoUDP, int(length))) != 0 {
		return u, dropf(DropChecksum, "UDP checksum 0x%04x is wrong", u.Checksum)
	}
	return u, nil
}

// NewUDPPacket builds an IPv4 packet holding a UDP datagram from src to dst with TTL 64
// and a checksum.
func NewUDPPacket(src, dst netip.AddrPort, ipID uint16, payload []byte) ([]byte, error) {
	u := UDP{SrcPort: src.Port(), DstPort: dst.Port(), Payload: payload}
	seg, err := u.Append(make([]byte, 0, udpHeaderLen+len(payload)), src.Addr(), dst.Addr())
	if err != nil {
		return nil, err
	}
	p := IPv4{ID: ipID, TTL: defaultTTL, Protocol: ProtoUDP, Src: src.Addr(), Dst: dst.Addr(), Payload: seg}
	if src.Addr().Is6() {
		p.Version = 6
	}
	return p.Marshal()
}
