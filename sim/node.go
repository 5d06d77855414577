package sim

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// Node is a simulated machine: interfaces, a routing table, an SPD and SAD, and
// optionally an IKE daemon and a NAT table.
type Node struct {
	// Recorder records the node's events; the node is its IKE daemon's ike.Observer
	// through it.
	trace.Recorder
	Name   string
	Kind   NodeKind
	Ifaces []*Iface
	// Group is the group of similar nodes the node is a member of ("" for none).
	Group string
	// NATOutside is the index of a NAT's outside interface (-1: the last one).
	NATOutside int
	// NATTimeout is how long an idle NAT mapping lives (0: 60 s).
	NATTimeout time.Duration
	// Stack is the node's IPsec stack (hoststack.go): SPD, SAD, IKE daemon, virtual IP.
	Stack
	// Reboot makes a fresh IKE daemon when the node restarts.
	Reboot func() (ike.Daemon, error)
	// Conns describes the node's IKE connections for its topology event.
	Conns []trace.Conn

	net      *Network
	rand     *Rand
	routes   *routeTable
	shared   *routeTable // a segment's, for a node on one segment and nothing else
	segIface *Iface      // its interface on that segment
	mark     int         // the last route search that reached the node
	down     bool        // restarted / powered off
	natMap   map[natKey]*natEntry
	natRev   map[natKey]*natEntry
	natPort  uint16
	boots    int // restarts so far
}

// PacketMeta travels with a packet across the wire: what the sender knew about it.
type PacketMeta struct {
	summary string
	ike     *ike.MessageInfo // IKE messages: the sender's view, decrypted
	sa      *ipsec.SA        // ESP: the SA that made it, to show it decrypted
}

// dissector dissects a packet with what its sender knew: the IKE message as the engine
// read it, or the ESP SA that protected it.
func (m *PacketMeta) dissector() ipsec.Dissector {
	var d ipsec.Dissector
	if m == nil {
		return d
	}
	if m.ike != nil && m.ike.Dissect != nil {
		d.IKE = func([]byte) *ike.Field { return m.ike.Dissect() }
	}
	if m.sa != nil {
		d.SA = func(uint32, netip.Addr) *ipsec.SA { return m.sa }
	}
	return d
}

func (nd *Node) emit(e *trace.Event) {
	if e.Node == "" {
		e.Node = nd.Name
	}
	nd.Recorder.Emit(e)
}

func protoName(ip *ipsec.IPv4) string {
	switch ip.Protocol {
	case ipsec.ProtoICMP, ipsec.ProtoICMPv6:
		return "icmp"
	case ipsec.ProtoESP:
		return "esp"
	case ipsec.ProtoAH:
		return "ah"
	case ipsec.ProtoUDP:
		return "udp"
	}
	return "ip"
}

// output routes a packet and puts it on the wire. ref is the message event of the
// packet this one was received as (0 for a packet made here).
func (nd *Node) output(dst netip.Addr, pkt []byte, meta *PacketMeta, ref int) {
	ifc, next := nd.route(dst)
	if ifc == nil || !ifc.attached() {
		nd.drop(pkt, ref, trace.DropNoRoute, fmt.Sprintf("no route to %s", dst))
		return
	}
	if seg := ifc.Segment; seg != nil {
		if m := seg.byAddr[dst]; m != nil {
			next = m // on the segment: straight to the member that has the address
		}
		if next == nil || next == ifc {
			nd.drop(pkt, ref, trace.DropNoRoute, fmt.Sprintf("no route to %s: no member of segment %s has it", dst, seg.Name))
			return
		}
	} else {
		next = ifc.Peer()
	}
	nd.net.transmit(ifc, next, pkt, meta, ref != 0)
}

// receive handles a packet that arrived on an interface.
func (nd *Node) receive(ifc *Iface, pkt []byte, meta *PacketMeta, ref int) {
	if nd.down {
		nd.drop(pkt, ref, trace.DropNodeDown, "node is down")
		return
	}
	ip, err := parseIP(pkt)
	if err != nil {
		nd.drop(pkt, ref, trace.DropMalformed, "malformed IPv4 packet: "+err.Error())
		return
	}
	if nd.Kind == KindNAT {
		nd.natReceive(ifc, ip, pkt, meta, ref)
		return
	}
	if nd.HasAddr(ip.Dst) {
		nd.deliver(ip, pkt, meta, ref)
		return
	}
	nd.forward(ip, pkt, meta, ref)
}

// forward passes on a packet that is not for this node.
func (nd *Node) forward(ip *ipsec.IPv4, pkt []byte, meta *PacketMeta, ref int) {
	if nd.Kind == KindHost {
		nd.drop(pkt, ref, trace.DropNotForUs, fmt.Sprintf("not for this host (%s) and hosts do not forward", ip.Dst))
		return
	}
	if ip.TTL <= 1 {
		nd.drop(pkt, ref, trace.DropTTL, "TTL expired")
		return
	}
	ip.TTL--
	if pkt = marshalIP(ip); pkt != nil {
		nd.outbound(ip, pkt, meta, ref)
	}
}

// deliver handles a packet addressed to this node.
func (nd *Node) deliver(ip *ipsec.IPv4, pkt []byte, meta *PacketMeta, ref int) {
	switch ip.Protocol {
	case ipsec.ProtoESP, ipsec.ProtoAH:
		nd.unprotect(pkt, ref)
	case ipsec.ProtoUDP:
		u, err := ipsec.ParseUDP(ip.Payload, ip.Src, ip.Dst)
		if err != nil {
			nd.drop(pkt, ref, trace.DropMalformed, "malformed UDP datagram: "+err.Error())
			return
		}
		local := netip.AddrPortFrom(ip.Dst, u.DstPort)
		remote := netip.AddrPortFrom(ip.Src, u.SrcPort)
		switch {
		case u.DstPort == ike.PortIKE:
			nd.toIKE(local, remote, u.Payload, pkt, ref)
		case u.DstPort == ike.PortNATT:
			switch {
			case len(u.Payload) == 1 && u.Payload[0] == 0xff:
				// RFC 3948 2.3: a NAT-keepalive; nothing to do.
			case len(u.Payload) >= 4 && u.Payload[0]|u.Payload[1]|u.Payload[2]|u.Payload[3] == 0:
				nd.toIKE(local, remote, u.Payload[4:], pkt, ref)
			default:
				nd.unprotect(pkt, ref)
			}
		default:
			nd.drop(pkt, ref, trace.DropUnreach, fmt.Sprintf("UDP port %d unreachable", u.DstPort))
		}
	case ipsec.ProtoICMP, ipsec.ProtoICMPv6:
		nd.ICMP(ip, pkt, ref)
	default:
		nd.drop(pkt, ref, trace.DropUnreach, fmt.Sprintf("protocol %d not handled", ip.Protocol))
	}
}

func (nd *Node) toIKE(local, remote netip.AddrPort, data, pkt []byte, ref int) {
	if nd.IKE == nil {
		nd.drop(pkt, ref, trace.DropNoDaemon, "no IKE daemon on this node")
		return
	}
	nd.Ref = ref
	nd.IKE.HandleDatagram(local, remote, data)
	nd.Ref = 0
}

// unprotect opens an ESP or AH packet and handles the inner packet as if it had arrived.
func (nd *Node) unprotect(pkt []byte, ref int) {
	ip, inner := nd.Unprotect(pkt, ref)
	if ip == nil {
		return
	}
	if nd.HasAddr(ip.Dst) {
		nd.deliver(ip, inner, nil, ref)
		return
	}
	nd.forward(ip, inner, nil, ref)
}

func parseIP(pkt []byte) (*ipsec.IPv4, error) {
	ip, err := ipsec.ParseIP(pkt)
	return &ip, err
}

// marshalIP builds a packet; it is nil only for one larger than IPv4 allows, which the
// simulator never makes.
func marshalIP(ip *ipsec.IPv4) []byte {
	b, err := ip.Marshal()
	if err != nil {
		return nil
	}
	return b
}
