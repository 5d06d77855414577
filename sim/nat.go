package sim

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// A NAT (RFC 3022 NAPT) rewrites the source address and port of packets from its inside
// interfaces to its outside address, and maps replies back while the mapping is alive.

type natKey struct {
	proto uint8
	addr  netip.Addr
	port  uint16 // UDP port or ICMP echo identifier
}

type natEntry struct {
	inside   natKey
	outside  natKey
	lastUsed time.Duration
}

func (nd *Node) outsideIndex() int {
	if nd.NATOutside >= 0 && nd.NATOutside < len(nd.Ifaces) {
		return nd.NATOutside
	}
	return len(nd.Ifaces) - 1
}

func (nd *Node) natTimeout() time.Duration {
	if nd.NATTimeout > 0 {
		return nd.NATTimeout
	}
	return 60 * time.Second
}

// portOf reads the port (UDP) or echo identifier (ICMP, ICMPv6) that the NAT maps.
func portOf(ip *ipsec.IPv4, src bool) (uint16, bool) {
	switch ip.Protocol {
	case ipsec.ProtoUDP:
		u, err := ipsec.ParseUDP(ip.Payload, netip.Addr{}, netip.Addr{})
		if err != nil {
			return 0, false
		}
		if src {
			return u.SrcPort, true
		}
		return u.DstPort, true
	case ipsec.ProtoICMP:
		ic, err := ipsec.ParseICMP(ip.Payload)
		if err != nil || (ic.Type != ipsec.ICMPEchoRequest && ic.Type != ipsec.ICMPEchoReply) {
			return 0, false
		}
		return ic.ID, true
	case ipsec.ProtoICMPv6:
		ic, err := ipsec.ParseICMPv6(ip.Payload, ip.Src, ip.Dst)
		if err != nil || (ic.Type != ipsec.ICMPv6EchoRequest && ic.Type != ipsec.ICMPv6EchoReply) {
			return 0, false
		}
		return ic.ID, true
	case ipsec.ProtoAH:
		// AH has no ports: the NAT maps the address alone, one inside host at a time,
		// as Linux's NAT does for a protocol it knows no ports of. The ICV covers the
		// address it rewrites (RFC 4302, Section 3.3.3.1.1.1).
		return 0, true
	}
	return 0, false
}

// setPort rewrites the port or echo identifier and recomputes the checksums.
func setPort(ip *ipsec.IPv4, src bool, port uint16) {
	switch ip.Protocol {
	case ipsec.ProtoUDP:
		u, _ := ipsec.ParseUDP(ip.Payload, netip.Addr{}, netip.Addr{})
		if src {
			u.SrcPort = port
		} else {
			u.DstPort = port
		}
		if b, err := u.Append(nil, ip.Src, ip.Dst); err == nil {
			ip.Payload = b
		}
	case ipsec.ProtoICMP:
		ic, _ := ipsec.ParseICMP(ip.Payload)
		ic.ID = port
		ip.Payload = ic.Marshal()
	case ipsec.ProtoICMPv6:
		// the checksum covers the pseudo-header, with the address just rewritten
		ic, _ := ipsec.ParseICMP(ip.Payload)
		ic.ID = port
		ip.Payload = ic.AppendV6(nil, ip.Src, ip.Dst)
	}
}

func (nd *Node) natReceive(ifc *Iface, ip *ipsec.IPv4, pkt []byte, meta *PacketMeta, ref int) {
	out := nd.Ifaces[nd.outsideIndex()]
	now := nd.net.Sim.Now()
	if ifc != out {
		if nd.HasAddr(ip.Dst) {
			nd.drop(pkt, ref, trace.DropNAT, "NAT: packet for the NAT itself")
			return
		}
		port, ok := portOf(ip, true)
		if !ok {
			nd.drop(pkt, ref, trace.DropNAT, fmt.Sprintf("NAT: cannot translate protocol %d (no ports)", ip.Protocol))
			return
		}
		if out.AddrFor(ip.Src).Is4() != ip.Src.Is4() {
			nd.drop(pkt, ref, trace.DropNAT, fmt.Sprintf("NAT: the outside interface has no address of %s's family", ip.Src))
			return
		}
		key := natKey{ip.Protocol, ip.Src, port}
		m := nd.natMap[key]
		if m != nil && now-m.lastUsed > nd.natTimeout() {
			nd.natExpire(m)
			m = nil
		}
		if m == nil {
			nd.natPort++
			m = &natEntry{inside: key, outside: natKey{ip.Protocol, out.AddrFor(ip.Src), 40000 + nd.natPort}}
			if ip.Protocol == ipsec.ProtoAH {
				m.outside.port = 0
			}
			nd.natMap[key] = m
			nd.natRev[m.outside] = m
			nd.Action(fmt.Sprintf("NAT: new mapping %s:%d → %s:%d", key.addr, key.port, m.outside.addr, m.outside.port))
		}
		m.lastUsed = now
		ip.Src = out.AddrFor(ip.Src)
		setPort(ip, true, m.outside.port)
		nd.natForward(ip, meta, ref)
		return
	}
	if !nd.HasAddr(ip.Dst) {
		nd.forward(ip, pkt, meta, ref)
		return
	}
	port, ok := portOf(ip, false)
	if !ok {
		nd.drop(pkt, ref, trace.DropNAT, fmt.Sprintf("NAT: no mapping for protocol %d", ip.Protocol))
		return
	}
	m := nd.natRev[natKey{ip.Protocol, ip.Dst, port}]
	if m != nil && now-m.lastUsed > nd.natTimeout() {
		nd.natExpire(m)
		m = nil
	}
	if m == nil {
		nd.drop(pkt, ref, trace.DropNAT, fmt.Sprintf("NAT: no mapping for %s:%d (expired or never made)", ip.Dst, port))
		return
	}
	m.lastUsed = now
	ip.Dst = m.inside.addr
	setPort(ip, false, m.inside.port)
	nd.natForward(ip, meta, ref)
}

func (nd *Node) natExpire(m *natEntry) {
	delete(nd.natMap, m.inside)
	delete(nd.natRev, m.outside)
	nd.Action(fmt.Sprintf("NAT: mapping %s:%d → %s:%d expired (idle longer than %s)",
		m.inside.addr, m.inside.port, m.outside.addr, m.outside.port, nd.natTimeout()))
}

func (nd *Node) natForward(ip *ipsec.IPv4, meta *PacketMeta, ref int) {
	if ip.TTL <= 1 {
		nd.drop(marshalIP(ip), ref, trace.DropTTL, "TTL expired")
		return
	}
	ip.TTL--
	nd.output(ip.Dst, marshalIP(ip), meta, ref)
}
