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
	// VirtualIP is an inner address assigned by Mode Config or CP.
	VirtualIP netip.Addr

	SPD *ipsec.SPD
	SAD *ipsec.SAD
	IKE ike.Daemon
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
	acquired map[uint32][]queued
	ipID     uint16
	down     bool // restarted / powered off
	natMap   map[natKey]*natEntry
	natRev   map[natKey]*natEntry
	natPort  uint16
	pings    map[uint16]*Ping
	// waitingOut holds a rekeyed outbound SA until the SA it replaces (by inbound SPI) is
	// deleted.
	waitingOut map[uint32]*ipsec.SA
	// traffic and trafficOut find the counts of a Child SA by its inbound and its
	// outbound SPI (traffic.go).
	traffic, trafficOut map[uint32]*childTraffic
	boots               int // restarts so far
}

// packetMeta travels with a packet across the wire: what the sender knew about it.
type packetMeta struct {
	summary string
	ike     *ike.MessageInfo // IKE messages: the sender's view, decrypted
	sa      *ipsec.SA        // ESP: the SA that made it, to show it decrypted
}

// dissector dissects a packet with what its sender knew: the IKE message as the engine
// read it, or the ESP SA that protected it.
func (m *packetMeta) dissector() ipsec.Dissector {
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

func (nd *Node) drop(pkt []byte, ref int, cause trace.DropCause, reason string) {
	e := &trace.Event{Kind: trace.KindDrop, Ref: ref, Cause: cause, Text: reason, Bytes: pkt}
	if ip, err := parseIP(pkt); err == nil {
		e.Src, e.Dst, e.Proto = ip.Src.String(), ip.Dst.String(), protoName(ip)
	}
	nd.emit(e)
}

// dropIPsec records an inbound packet that ESP or AH (proto) refused, with the refusal as
// data.
func (nd *Node) dropIPsec(pkt []byte, ref int, proto string, err error) {
	e := &trace.Event{Kind: trace.KindDrop, Ref: ref, Cause: ESPDropCause(err), Text: proto + ": " + err.Error(), Bytes: pkt}
	if ip, perr := parseIP(pkt); perr == nil {
		e.Src, e.Dst, e.Proto = ip.Src.String(), ip.Dst.String(), protoName(ip)
	}
	e.IPsec = IPsecDropOf(proto, err)
	nd.emit(e)
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

// SendIP originates an IPv4 packet: outbound policy (protect, bypass, discard), then
// routing. Packets that need an SA which does not exist yet wait for IKE.
func (nd *Node) SendIP(pkt []byte, meta *packetMeta) {
	ip, err := parseIP(pkt)
	if err != nil {
		nd.drop(pkt, 0, trace.DropMalformed, "malformed IPv4 packet: "+err.Error())
		return
	}
	nd.outbound(ip, pkt, meta, 0)
}

// outbound applies the SPD to a packet the node originates or forwards.
func (nd *Node) outbound(ip *ipsec.IPv4, pkt []byte, meta *packetMeta, ref int) {
	flow, err := ipsec.FlowOf(pkt)
	if err != nil {
		nd.drop(pkt, ref, trace.DropMalformed, err.Error())
		return
	}
	pol := nd.SPD.Lookup(ipsec.Out, flow)
	if pol == nil || pol.Action == ipsec.ActionBypass {
		nd.output(ip.Dst, pkt, meta, ref)
		return
	}
	if pol.Action == ipsec.ActionDiscard {
		nd.drop(pkt, ref, trace.DropPolicy, fmt.Sprintf("discarded by policy %s", pol.Name))
		return
	}
	if nd.SAD.Outbound(pol.Reqid) == nil {
		nd.acquire(pol, pkt, meta)
		return
	}
	nd.protect(pol.Reqid, ip, pkt, ref)
}

// protect applies the SAs of the Reqid (SAD.Protect: ESP, AH, or an AH+ESP bundle).
func (nd *Node) protect(reqid uint32, ip *ipsec.IPv4, pkt []byte, ref int) {
	out, sa, err := nd.SAD.Protect(reqid, pkt)
	if err != nil {
		nd.drop(pkt, ref, trace.DropESP, ipsecName(out, sa)+": "+err.Error())
		return
	}
	nd.countedOut(sa)
	m := &packetMeta{sa: sa}
	m.summary = fmt.Sprintf("%s SPI 0x%08x seq %d {%s}", ipsecName(out, sa), sa.SPI, sa.Stats().Packets, PacketSummary(ip))
	nd.output(sa.Dst, out, m, 0) // a new packet, made here
}

// ipsecName names the IPsec protocols of an outbound packet: "ESP", "AH", or "AH+ESP"
// for a bundle, whose SA is the ESP one.
func ipsecName(out []byte, sa *ipsec.SA) string {
	switch {
	case sa != nil && sa.IsAH():
		return "AH"
	case len(out) > 9 && out[9] == ipsec.ProtoAH:
		return "AH+ESP"
	}
	return "ESP"
}

// acquire queues a packet and asks IKE for the SA of its policy, once.
func (nd *Node) acquire(pol *ipsec.Policy, pkt []byte, meta *packetMeta) {
	q := nd.acquired[pol.Reqid]
	if len(q) >= 32 {
		nd.drop(pkt, 0, trace.DropQueueFull, "acquire queue full while waiting for the IPsec SA")
		return
	}
	nd.acquired[pol.Reqid] = append(q, queued{pkt, meta})
	if len(q) > 0 {
		nd.Action(fmt.Sprintf("Queue the packet: the IPsec SA for policy %s is still being negotiated", pol.Name))
		return
	}
	nd.Action(fmt.Sprintf("Packet matches IPsec policy %s but no SA exists: queue it and ask IKE for an SA (acquire)", pol.Name))
	if nd.IKE == nil {
		nd.Action("No IKE daemon on this node: the packet waits in vain")
		return
	}
	nd.IKE.Acquire(pol.Reqid)
}

// output routes a packet and puts it on the wire. ref is the message event of the
// packet this one was received as (0 for a packet made here).
func (nd *Node) output(dst netip.Addr, pkt []byte, meta *packetMeta, ref int) {
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
func (nd *Node) receive(ifc *Iface, pkt []byte, meta *packetMeta, ref int) {
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
func (nd *Node) forward(ip *ipsec.IPv4, pkt []byte, meta *packetMeta, ref int) {
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
func (nd *Node) deliver(ip *ipsec.IPv4, pkt []byte, meta *packetMeta, ref int) {
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
		nd.icmp(ip, pkt, ref)
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

// unprotect opens an ESP packet and handles the inner packet as if it had arrived.
func (nd *Node) unprotect(pkt []byte, ref int) {
	proto := "ESP"
	if len(pkt) > 9 && pkt[9] == ipsec.ProtoAH {
		proto = "AH"
	}
	inner, sa, err := nd.SAD.Unprotect(pkt)
	if err != nil {
		nd.dropIPsec(pkt, ref, proto, err)
		return
	}
	ip, err := parseIP(inner)
	if err != nil {
		nd.drop(pkt, ref, trace.DropMalformed, proto+": inner packet: "+err.Error())
		return
	}
	nd.countedIn(sa)
	switch {
	case sa.IsAH():
		nd.Action(fmt.Sprintf("Verify AH (SPI 0x%08x, ICV over the packet and its addresses, sequence checked by the anti-replay window): %s", sa.SPI, PacketSummary(ip)))
	case proto == "AH":
		nd.Action(fmt.Sprintf("Verify AH, then decrypt the ESP inside it (ESP SPI 0x%08x): %s", sa.SPI, PacketSummary(ip)))
	default:
		nd.Action(fmt.Sprintf("Decrypt ESP (SPI 0x%08x, sequence checked by the anti-replay window): %s", sa.SPI, PacketSummary(ip)))
	}
	if nd.HasAddr(ip.Dst) {
		nd.deliver(ip, inner, nil, ref)
		return
	}
	nd.forward(ip, inner, nil, ref)
}

// icmp answers echo requests and gives echo replies to the ping that waits for them.
func (nd *Node) icmp(ip *ipsec.IPv4, pkt []byte, ref int) {
	ic, err := parseICMP(ip)
	if err != nil {
		nd.drop(pkt, ref, trace.DropMalformed, "malformed ICMP: "+err.Error())
		return
	}
	switch ic.Type {
	case ipsec.ICMPEchoRequest, ipsec.ICMPv6EchoRequest:
		nd.ipID++
		reply, err := ipsec.EchoReply(pkt, nd.ipID)
		if err != nil {
			nd.drop(pkt, ref, trace.DropOther, "cannot answer echo request: "+err.Error())
			return
		}
		nd.SendIP(reply, nil)
	case ipsec.ICMPEchoReply, ipsec.ICMPv6EchoReply:
		if p := nd.pings[ic.ID]; p != nil {
			p.reply(ic.Seq)
		}
	}
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
