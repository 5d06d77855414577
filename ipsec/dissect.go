package ipsec

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ikesim/ikesim/ike"
)

// Dissector turns packets into ike.Field trees for the trace. Its hooks supply what this
// package cannot know by itself; the zero value dissects without them.
type Dissector struct {
	// SA returns the SA that can open an ESP packet with this SPI sent to dst, or nil;
	// the packet is then shown decrypted. SAD.Dissect sets it.
	SA func(spi uint32, dst netip.Addr) *SA
	// IKE dissects an IKE message found on UDP 500, or on 4500 after the non-ESP marker.
	// The offsets of its result index the message; the dissector moves them to the
	// packet's.
	IKE func(msg []byte) *ike.Field
	// NATTPorts are UDP ports besides 4500 that carry RFC 3948 framing (the non-ESP
	// marker before IKE, ESP without it), as a real peer's IKE port does when it is not
	// 500.
	NATTPorts []uint16
	// IKEPorts are UDP ports besides 500 that carry IKE without a marker, as a daemon
	// whose charon.port is not 500 sends it before any NAT is detected.
	IKEPorts []uint16
}

// DissectIPv4 dissects an IPv4 packet and what it carries: ICMP, UDP, TCP ports, ESP
// and AH headers, IKE on UDP 500 and 4500 (as one field), NAT-keepalives, and a packet tunnelled
// in IPv4.
func DissectIPv4(b []byte) *ike.Field { return Dissector{}.IPv4(b) }

// DissectICMP dissects an ICMP message (RFC 792).
func DissectICMP(b []byte) *ike.Field { return dissectICMP(b, 0) }

// DissectUDP dissects a UDP datagram (RFC 768) sent from src to dst, checking its
// checksum when both addresses are valid.
func DissectUDP(b []byte, src, dst netip.Addr) *ike.Field { return Dissector{}.udp(b, 0, src, dst) }

// DissectESP dissects an ESP packet, from the SPI to the ICV (RFC 4303, Section 2). With
// the SA of its SPI it verifies and decrypts it, without changing the SA's state: the
// "Encrypted Data" field then holds the plaintext in Plain, and its children (indexing
// Plain) are the inner packet's dissection, Padding, Pad Length and Next Header; IV and
// ICV are fields of the ESP packet.
func DissectESP(b []byte, sa *SA) *ike.Field { return Dissector{}.espWith(b, 0, sa) }

// IPv4 dissects an IPv4 packet with the dissector's hooks, or an IPv6 packet (IP).
func (d Dissector) IPv4(b []byte) *ike.Field { return d.ip(b, 0) }

func field(parent *ike.Field, name, value string, offset, length int, explain string) *ike.Field {
	f := parent.Add(name, value, offset, length)
	f.Explain = explain
	return f
}

func checksumVerdict(got uint16, ok bool) string {
	if ok {
		return fmt.Sprintf("0x%04x (correct)", got)
	}
	return fmt.Sprintf("0x%04x (incorrect)", got)
}

// IP dissects an IPv4 or an IPv6 packet, by its version, with the dissector's hooks.
func (d Dissector) IP(b []byte) *ike.Field { return d.ip(b, 0) }

// ip dissects an IPv4 or IPv6 packet at offset base.
func (d Dissector) ip(b []byte, base int) *ike.Field {
	if len(b) > 0 && b[0]>>4 == 6 {
		return d.ipv6(b, base)
	}
	return d.ipv4(b, base)
}

// ipv4 dissects an IPv4 packet whose first byte is at offset base (RFC 791, Section 3.1).
func (d Dissector) ipv4(b []byte, base int) *ike.Field {
	f := &ike.Field{Name: "IPv4", Offset: base, Length: len(b), Explain: "Internet Protocol version 4 header and payload (RFC 791)"}
	p, err := ParseIPv4(b)
	if len(b) < ipv4HeaderLen {
		f.Error = err.Error()
		return f
	}
	hl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	f.Value = fmt.Sprintf("%v -> %v, %s", p.Src, p.Dst, ProtoName(p.Protocol))
	field(f, "Version", fmt.Sprint(b[0]>>4), base, 1, "IP version: 4")
	field(f, "Header Length", fmt.Sprintf("%d bytes", hl), base, 1, "IHL: the header length in 32-bit words")
	field(f, "Type of Service", fmt.Sprintf("0x%02x (DSCP %d, ECN %d)", p.TOS, p.TOS>>2, p.TOS&3), base+1, 1,
		"DSCP and ECN; a tunnel copies them to its outer header")
	field(f, "Total Length", fmt.Sprint(total), base+2, 2, "length of header and payload in bytes")
	field(f, "Identification", fmt.Sprintf("0x%04x (%d)", p.ID, p.ID), base+4, 2, "groups the fragments of one datagram")
	var flags []string
	if p.Flags&FlagDF != 0 {
		flags = append(flags, "Don't Fragment")
	}
	if p.Flags&FlagMF != 0 {
		flags = append(flags, "More Fragments")
	}
	fv := fmt.Sprintf("0x%x", p.Flags)
	if len(flags) > 0 {
		fv += " (" + strings.Join(flags, ", ") + ")"
	}
	field(f, "Flags", fv, base+6, 1, "DF forbids fragmentation; MF says more fragments follow")
	field(f, "Fragment Offset", fmt.Sprint(p.FragOff), base+6, 2, "where this fragment goes, in units of 8 bytes")
	field(f, "Time to Live", fmt.Sprint(p.TTL), base+8, 1, "hops left before the packet is discarded")
	field(f, "Protocol", fmt.Sprintf("%s (%d)", ProtoName(p.Protocol), p.Protocol), base+9, 1, "what the payload is")
	if err != nil && p.Payload == nil {
		f.Error = err.Error()
		return f
	}
	field(f, "Header Checksum", checksumVerdict(p.Checksum, err == nil), base+10, 2, "Internet checksum of the header alone")
	field(f, "Source Address", p.Src.String(), base+12, 4, "sender")
	field(f, "Destination Address", p.Dst.String(), base+16, 4, "receiver")
	if len(p.Options) > 0 {
		field(f, "Options", fmt.Sprintf("%d bytes", len(p.Options)), base+ipv4HeaderLen, len(p.Options), "IP options")
	}
	d.upper(f, b[:hl+len(p.Payload)], base, &p)
	return f
}

// upper dissects what the IP packet pkt at offset base (parsed as p) carries after its
// headers: a fragment's data, or the protocol Protocol names.
func (d Dissector) upper(f *ike.Field, pkt []byte, base int, p *IPv4) {
	hl := p.HeaderLen()
	body := base + hl
	switch {
	case p.FragOff != 0:
		field(f, "Fragment Data", fmt.Sprintf("%d bytes", len(p.Payload)), body, len(p.Payload), "a later fragment: its headers are in the first one")
	case p.Protocol == ProtoICMP:
		f.Children = append(f.Children, dissectICMP(p.Payload, body))
	case p.Protocol == ProtoICMPv6:
		f.Children = append(f.Children, dissectICMPv6(p.Payload, body, p.Src, p.Dst))
	case p.Protocol == ProtoUDP:
		f.Children = append(f.Children, d.udp(p.Payload, body, p.Src, p.Dst))
	case p.Protocol == ProtoTCP:
		f.Children = append(f.Children, dissectTCP(p.Payload, body))
	case p.Protocol == ProtoESP:
		f.Children = append(f.Children, d.esp(p.Payload, body, p.Dst))
	case p.Protocol == ProtoAH:
		f.Children = append(f.Children, d.ah(pkt, hl, base, p))
	case p.Protocol == ProtoIPIP || p.Protocol == ProtoIPv6:
		f.Children = append(f.Children, d.ip(p.Payload, body))
	default:
		field(f, "Payload", fmt.Sprintf("%d bytes", len(p.Payload)), body, len(p.Payload), "")
	}
}

// icmpKind is what tells ICMP (RFC 792) and ICMPv6 (RFC 4443) apart in a dissection.
type icmpKind struct {
	name, explain, typeExplain, checksumExplain string
	names                                       map[uint8]string
	request, reply                              uint8
}

var (
	icmpv4 = icmpKind{"ICMP", "Internet Control Message Protocol (RFC 792)", "8 asks for an echo, 0 is the echo reply",
		"Internet checksum of the whole message", icmpTypeNames, ICMPEchoRequest, ICMPEchoReply}
	icmpv6 = icmpKind{"ICMPv6", "Internet Control Message Protocol for IPv6 (RFC 4443)", "128 asks for an echo, 129 is the echo reply",
		"Internet checksum of the message and the IPv6 pseudo-header (RFC 4443, Section 2.3)", icmpv6TypeNames, ICMPv6EchoRequest, ICMPv6EchoReply}
)

// dissectICMP dissects an ICMP message at offset base (RFC 792).
func dissectICMP(b []byte, base int) *ike.Field {
	_, err := ParseICMP(b)
	return icmpv4.dissect(b, base, err, true)
}

// dissectICMPv6 dissects an ICMPv6 message at offset base sent from src to dst (RFC
// 4443), checking its checksum when both addresses are valid.
func dissectICMPv6(b []byte, base int, src, dst netip.Addr) *ike.Field {
	_, err := ParseICMPv6(b, src, dst)
	return icmpv6.dissect(b, base, err, src.Is6() && dst.Is6())
}

// dissect dissects a message of the kind whose parse error is err; checked says whether
// its checksum could be checked.
func (k icmpKind) dissect(b []byte, base int, err error, checked bool) *ike.Field {
	f := &ike.Field{Name: k.name, Offset: base, Length: len(b), Explain: k.explain}
	m, _ := ParseICMP(b)
	if len(b) < icmpHeaderLen {
		f.Error = err.Error()
		return f
	}
	name := k.names[m.Type]
	if name == "" {
		name = "type " + fmt.Sprint(m.Type)
	}
	f.Value = name
	field(f, "Type", fmt.Sprintf("%d (%s)", m.Type, name), base, 1, k.typeExplain)
	field(f, "Code", fmt.Sprint(m.Code), base+1, 1, "")
	cs := fmt.Sprintf("0x%04x", m.Checksum)
	if checked {
		cs = checksumVerdict(m.Checksum, err == nil)
	}
	field(f, "Checksum", cs, base+2, 2, k.checksumExplain)
	if m.Type == k.request || m.Type == k.reply {
		f.Value = fmt.Sprintf("%s id=0x%04x seq=%d", name, m.ID, m.Seq)
		field(f, "Identifier", fmt.Sprintf("0x%04x", m.ID), base+4, 2, "matches replies to the pinging process")
		field(f, "Sequence Number", fmt.Sprint(m.Seq), base+6, 2, "counts the echo requests")
	} else {
		field(f, "Rest of Header", fmt.Sprintf("0x%04x%04x", m.ID, m.Seq), base+4, 4, "")
	}
	field(f, "Data", fmt.Sprintf("%d bytes", len(m.Data)), base+icmpHeaderLen, len(m.Data), "echoed back unchanged")
	return f
}

// dissectTCP shows the ports of a TCP segment at offset base (RFC 9293, Section 3.1).
func dissectTCP(b []byte, base int) *ike.Field {
	f := &ike.Field{Name: "TCP", Offset: base, Length: len(b), Explain: "Transmission Control Protocol (RFC 9293)"}
	if len(b) < 4 {
		f.Error = fmt.Sprintf("truncated: %d bytes", len(b))
		return f
	}
	sp, dp := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	f.Value = fmt.Sprintf("%d -> %d", sp, dp)
	field(f, "Source Port", fmt.Sprint(sp), base, 2, "")
	field(f, "Destination Port", fmt.Sprint(dp), base+2, 2, "")
	return f
}

// udp dissects a UDP datagram at offset base (RFC 768) and, on the IKE ports, what it
// carries (RFC 3948, Section 2).
func (d Dissector) udp(b []byte, base int, src, dst netip.Addr) *ike.Field {
	f := &ike.Field{Name: "UDP", Offset: base, Length: len(b), Explain: "User Datagram Protocol (RFC 768)"}
	u, err := ParseUDP(b, src, dst)
	if len(b) < udpHeaderLen {
		f.Error = err.Error()
		return f
	}
	f.Value = fmt.Sprintf("%d -> %d", u.SrcPort, u.DstPort)
	field(f, "Source Port", fmt.Sprint(u.SrcPort), base, 2, "")
	field(f, "Destination Port", fmt.Sprint(u.DstPort), base+2, 2, "")
	field(f, "Length", fmt.Sprint(binary.BigEndian.Uint16(b[4:])), base+4, 2, "header and data in bytes")
	cs := checksumVerdict(u.Checksum, err == nil)
	switch {
	case u.Checksum == 0:
		cs = "0x0000 (none)"
	case !src.IsValid() || !dst.IsValid():
		cs = fmt.Sprintf("0x%04x", u.Checksum)
	}
	field(f, "Checksum", cs, base+6, 2, "over a pseudo-header of the addresses and the datagram; 0 means none (ESP-in-UDP sends 0, RFC 3948)")
	if u.Payload == nil {
		f.Error = err.Error()
		return f
	}
	body := base + udpHeaderLen
	switch {
	case u.SrcPort == PortNATT || u.DstPort == PortNATT || d.framed(u.SrcPort, u.DstPort):
		switch natTKind(u.Payload) {
		case natTKeepalive:
			field(f, "NAT-Keepalive", "0xff", body, 1, "keeps the NAT mapping alive; the receiver ignores it (RFC 3948, Section 2.3)")
		case natTIKE:
			field(f, "Non-ESP Marker", "0x00000000", body, 4, "zero where ESP has its SPI: an IKE message follows (RFC 3948, Section 2.2)")
			f.Children = append(f.Children, d.ike(u.Payload[4:], body+4))
		default:
			f.Children = append(f.Children, d.esp(u.Payload, body, dst))
		}
	case u.SrcPort == PortIKE || u.DstPort == PortIKE || slices.Contains(d.IKEPorts, u.SrcPort) || slices.Contains(d.IKEPorts, u.DstPort):
		f.Children = append(f.Children, d.ike(u.Payload, body))
	default:
		field(f, "Data", fmt.Sprintf("%d bytes", len(u.Payload)), body, len(u.Payload), "")
	}
	return f
}

// framed reports whether a datagram between two ports other than 4500 has RFC 3948
// framing: one port is in NATTPorts and neither is IKE's port 500, on which IKE goes
// without a marker.
func (d Dissector) framed(src, dst uint16) bool {
	return (slices.Contains(d.NATTPorts, src) || slices.Contains(d.NATTPorts, dst)) && src != PortIKE && dst != PortIKE
}

// ike dissects an IKE message at offset base with the IKE hook.
func (d Dissector) ike(msg []byte, base int) *ike.Field {
	if d.IKE == nil {
		return &ike.Field{Name: "IKE Message", Value: fmt.Sprintf("%d bytes", len(msg)), Offset: base, Length: len(msg),
			Explain: "Internet Key Exchange (RFC 7296)"}
	}
	f := d.IKE(msg)
	shift(f, base)
	return f
}

// shift moves the offsets of a dissection by delta, except below a field with Plain set,
// whose children index the plaintext.
func shift(f *ike.Field, delta int) {
	if f == nil {
		return
	}
	f.Offset += delta
	if f.Plain != nil {
		return
	}
	for _, c := range f.Children {
		shift(c, delta)
	}
}

// esp dissects an ESP packet at offset base sent to dst, opening it with the SA hook.
func (d Dissector) esp(b []byte, base int, dst netip.Addr) *ike.Field {
	var sa *SA
	if d.SA != nil && len(b) >= espHeaderLen {
		sa = d.SA(binary.BigEndian.Uint32(b), dst)
	}
	return d.espWith(b, base, sa)
}

// espWith dissects an ESP packet at offset base (RFC 4303, Section 2), opening it with sa
// when sa holds its SPI.
func (d Dissector) espWith(b []byte, base int, sa *SA) *ike.Field {
	f := &ike.Field{Name: "ESP", Offset: base, Length: len(b), Explain: "Encapsulating Security Payload (RFC 4303)"}
	if len(b) < espHeaderLen {
		f.Error = fmt.Sprintf("truncated: the ESP header needs 8 bytes, have %d", len(b))
		return f
	}
	spi, seq32 := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	f.Value = fmt.Sprintf("SPI 0x%08x, seq %d", spi, seq32)
	field(f, "SPI", fmt.Sprintf("0x%08x", spi), base, 4, "Security Parameters Index: the receiver chose it to find its SA")
	field(f, "Sequence Number", fmt.Sprint(seq32), base+4, 4, "counts the packets of the SA; the receiver refuses repeats (anti-replay)")
	rest := len(b) - espHeaderLen
	if sa == nil || sa.SPI != spi || sa.IsAH() {
		field(f, "Encrypted Data", fmt.Sprintf("%d bytes", rest), base+espHeaderLen, rest,
			"IV, encrypted payload, padding, trailer and ICV: opening them needs the SA's keys")
		return f
	}

	sa.mu.Lock()
	defer sa.mu.Unlock()
	if err := sa.prepare(); err != nil {
		f.Error = err.Error()
		return f
	}
	seq := sa.seqOf(seq32)
	if sa.ESN {
		field(f, "Extended Sequence Number", fmt.Sprint(seq), base+4, 4,
			"64-bit sequence number: the high 32 bits are not sent, the receiver infers them (RFC 4303, Appendix A)")
	}
	if rest < sa.ivSize+espTrailerLen+sa.icvSize {
		f.Error = fmt.Sprintf("truncated: %d bytes after the header", rest)
		return f
	}
	if sa.ivSize > 0 {
		how := "random, never predictable (RFC 3602)"
		if sa.ivFromSeq {
			how = "the sequence number: unique per key, as counter modes need (RFC 4106, Section 3.1)"
		}
		field(f, "IV", fmt.Sprintf("%x", b[espHeaderLen:espHeaderLen+sa.ivSize]), base+espHeaderLen, sa.ivSize,
			"initialization vector: "+how)
	}
	ctOff := espHeaderLen + sa.ivSize
	ctLen := len(b) - ctOff - sa.icvSize
	enc := field(f, "Encrypted Data", fmt.Sprintf("%d bytes, %s", ctLen, sa.Encr.Name), base+ctOff, ctLen,
		"payload, padding, Pad Length and Next Header, encrypted")
	var icv *ike.Field
	if sa.icvSize > 0 {
		icv = field(f, "ICV", fmt.Sprintf("%x", b[len(b)-sa.icvSize:]), base+len(b)-sa.icvSize, sa.icvSize,
			"Integrity Check Value over the packet from the SPI on")
	}
	o, err := sa.open(nil, b, seq)
	if err != nil {
		enc.Error = err.Error()
		return f
	}
	if icv != nil && sa.Integ != nil && sa.Integ.New == nil {
		icv.Value += " (not checked: the key table gives no integrity algorithm)"
	} else if icv != nil {
		icv.Value += " (verified)"
	}
	enc.Plain = slices.Clone(o.plain)
	inner := Dissector{IKE: d.IKE}
	p := o.plain[:o.payloadLen]
	switch o.nextHeader {
	case ProtoIPIP, ProtoIPv6:
		enc.Children = append(enc.Children, inner.ip(p, 0))
	case ProtoICMPv6:
		enc.Children = append(enc.Children, dissectICMPv6(p, 0, netip.Addr{}, netip.Addr{}))
	case ProtoICMP:
		enc.Children = append(enc.Children, dissectICMP(p, 0))
	case ProtoUDP:
		enc.Children = append(enc.Children, inner.udp(p, 0, netip.Addr{}, netip.Addr{}))
	case ProtoTCP:
		enc.Children = append(enc.Children, dissectTCP(p, 0))
	case ProtoNone:
		field(enc, "Dummy Data", fmt.Sprintf("%d bytes", len(p)), 0, len(p), "traffic flow confidentiality: a dummy packet the receiver discards (RFC 4303, Section 2.6)")
	default:
		field(enc, "Payload Data", fmt.Sprintf("%d bytes", len(p)), 0, len(p), "")
	}
	n := len(o.plain)
	if padLen := n - espTrailerLen - o.payloadLen; padLen > 0 {
		field(enc, "Padding", fmt.Sprintf("1, 2, ..., %d", padLen), o.payloadLen, padLen,
			fmt.Sprintf("fills the plaintext to a multiple of %d bytes (RFC 4303, Section 2.4)", sa.align))
	}
	field(enc, "Pad Length", fmt.Sprint(n-espTrailerLen-o.payloadLen), n-2, 1, "bytes of padding before it")
	field(enc, "Next Header", fmt.Sprintf("%s (%d)", ProtoName(o.nextHeader), o.nextHeader), n-1, 1,
		"what the payload is: IPv4 (4) or IPv6 (41) in tunnel mode, the transport protocol in transport mode")
	return f
}

// ipv6 dissects an IPv6 packet whose first byte is at offset base (RFC 8200, Section 3),
// its extension headers (Section 4) and what follows them.
func (d Dissector) ipv6(b []byte, base int) *ike.Field {
	f := &ike.Field{Name: "IPv6", Offset: base, Length: len(b), Explain: "Internet Protocol version 6 header and payload (RFC 8200)"}
	p, err := ParseIPv6(b)
	if len(b) < ipv6HeaderLen {
		f.Error = err.Error()
		return f
	}
	f.Value = fmt.Sprintf("%v -> %v, %s", p.Src, p.Dst, ProtoName(p.Protocol))
	field(f, "Version", "6", base, 1, "IP version: 6")
	field(f, "Traffic Class", fmt.Sprintf("0x%02x (DSCP %d, ECN %d)", p.TOS, p.TOS>>2, p.TOS&3), base, 2,
		"DSCP and ECN, as IPv4's Type of Service; a tunnel copies them to its outer header")
	field(f, "Flow Label", fmt.Sprintf("0x%05x", p.FlowLabel), base+1, 3, "labels the packets of one flow; 0 for none")
	field(f, "Payload Length", fmt.Sprint(binary.BigEndian.Uint16(b[4:])), base+4, 2, "bytes after the fixed 40-byte header, extension headers included")
	field(f, "Next Header", fmt.Sprintf("%s (%d)", ProtoName(b[6]), b[6]), base+6, 1, "what follows the fixed header: an extension header or the payload")
	field(f, "Hop Limit", fmt.Sprint(p.TTL), base+7, 1, "hops left before the packet is discarded, as IPv4's Time to Live")
	field(f, "Source Address", p.Src.String(), base+8, 16, "sender")
	field(f, "Destination Address", p.Dst.String(), base+24, 16, "receiver")
	if err != nil {
		f.Error = err.Error()
		return f
	}
	nh, off := b[6], ipv6HeaderLen
	for off < ipv6HeaderLen+len(p.Ext) {
		n, _ := extLen(nh, b[off:])
		e := field(f, ProtoName(nh)+" Header", fmt.Sprintf("%d bytes, Next Header %s", n, ProtoName(b[off])), base+off, n,
			"an IPv6 extension header (RFC 8200, Section 4)")
		if nh == ProtoFragment {
			e.Value += fmt.Sprintf(", offset %d, identification 0x%08x", p.FragOff, binary.BigEndian.Uint32(b[off+4:]))
			if p.Flags&FlagMF != 0 {
				e.Value += ", more fragments"
			}
		}
		nh, off = b[off], off+n
	}
	d.upper(f, b[:p.HeaderLen()+len(p.Payload)], base, &p)
	return f
}
