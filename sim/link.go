package sim

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// medium is what carries a datagram: a link or a segment.
type medium struct {
	*LinkParams
	down bool
	rand *Rand
	// last is when the datagram sent before arrives: the next one arrives after it
	// unless it is reordered.
	last *time.Duration
	link *Link
	seg  *Segment
}

// mediumOf is the link or segment of ifc.
func mediumOf(ifc *Iface) medium {
	if l := ifc.Link; l != nil {
		dir := 0
		if ifc == l.B {
			dir = 1
		}
		return medium{&l.LinkParams, l.Down, l.rand, &l.last[dir], l, nil}
	}
	s := ifc.Segment
	return medium{&s.LinkParams, s.Down, s.rand, &ifc.segLast, nil, s}
}

// name names the medium for people: "link a—b", "segment lan".
func (m medium) name() string {
	if m.link != nil {
		return "link " + m.link.Name()
	}
	return "segment " + m.seg.Name
}

// arrival is when a datagram sent now arrives.
func (m medium) arrival(now time.Duration) time.Duration {
	return arrival(m.LinkParams, m.rand, now, m.last)
}

// transmit puts a packet on the wire of ifc toward peer: it records the message event,
// applies the faults and the impairments of the link or segment, and schedules the
// arrival at the far end.
func (n *Network) transmit(ifc, peer *Iface, pkt []byte, meta *PacketMeta, forwarded bool) {
	l := mediumOf(ifc)
	w := &trace.Wire{From: ifc.Node.Name, To: peer.Node.Name, Bytes: pkt, Forwarded: forwarded}
	e := &trace.Event{Kind: trace.KindMessage, Wire: w}
	n.describe(e, pkt, meta)
	verdict := n.applyFaults(e)
	if verdict.rule != "" {
		e.Text = "fault: " + verdict.rule
		if verdict.delay > 0 {
			e.Text += fmt.Sprintf(" (+%s)", verdict.delay)
		}
	}
	var reason string
	var cause trace.DropCause
	switch {
	case ifc.Node.down:
		cause, reason = trace.DropNodeDown, "node is down"
	case l.down:
		cause, reason = trace.DropLinkDown, l.name()+" is down"
	case len(pkt) > l.MTU:
		cause, reason = trace.DropMTU, fmt.Sprintf("%d bytes exceed the link MTU of %d (DF set, no fragmentation)", len(pkt), l.MTU)
	case verdict.drop:
		cause, reason = trace.DropFault, "dropped by fault rule: "+verdict.rule
	case l.rand.Chance(l.Loss):
		cause, reason = trace.DropLoss, fmt.Sprintf("lost on %s (%.0f%% loss)", l.name(), l.Loss*100)
	}
	at := n.Sim.Now()
	if reason == "" {
		at = l.arrival(n.Sim.Now()) + verdict.delay
		a := trace.Seconds(at)
		w.Arrive = &a
	}
	ifc.Node.emit(e)
	if reason != "" {
		ifc.Node.emit(&trace.Event{Kind: trace.KindDrop, Text: reason, Wire: &trace.Wire{Ref: e.Seq, From: w.From,
			To: w.To, Src: w.Src, Dst: w.Dst, Proto: w.Proto, Exchange: w.Exchange, Cause: cause}})
		return
	}
	deliverAt := func(at time.Duration, b []byte, why string) {
		ref := e.Seq
		n.Sim.After(at-n.Sim.Now(), func() {
			r := &trace.Event{Kind: trace.KindRecv, Text: why, Wire: &trace.Wire{Ref: ref, From: w.From, To: w.To,
				Src: w.Src, Dst: w.Dst, Proto: w.Proto, Exchange: w.Exchange, Summary: w.Summary}}
			peer.Node.emit(r)
			peer.Node.Recv = r
			peer.Node.receive(peer, b, meta, ref)
			peer.Node.Recv = nil
		})
	}
	b := pkt
	if verdict.corrupt || l.rand.Chance(l.Corrupt) {
		b = append([]byte(nil), pkt...)
		i := 20 + l.rand.IntN(max(1, len(b)-20)) // spare the IP header, so the packet arrives
		if i >= len(b) {
			i = len(b) - 1
		}
		b[i] ^= 0x5a
		deliverAt(at, b, fmt.Sprintf("corrupted on the wire: byte %d flipped", i))
	} else {
		deliverAt(at, b, "")
	}
	if verdict.duplicate || l.rand.Chance(l.Duplicate) {
		deliverAt(at+time.Millisecond, pkt, "duplicate copy")
	}
}

// describe fills in a message event's addresses, protocol, summary and dissection.
func (n *Network) describe(e *trace.Event, pkt []byte, meta *PacketMeta) {
	w := trace.WireOf(e)
	parsed, err := ipsec.ParseIP(pkt)
	ip := &parsed
	if err != nil {
		w.Proto, w.Summary = "ip", "malformed IPv4 packet"
		return
	}
	w.Proto = protoName(ip)
	e.SetDissect(func() *ike.Field { return meta.dissector().IPv4(pkt) })
	var u ipsec.UDP
	udp := false
	if ip.Protocol == ipsec.ProtoUDP {
		var err error
		u, err = ipsec.ParseUDP(ip.Payload, ip.Src, ip.Dst)
		udp = err == nil
	}
	if udp {
		w.Src = n.addrText(netip.AddrPortFrom(ip.Src, u.SrcPort), true)
		w.Dst = n.addrText(netip.AddrPortFrom(ip.Dst, u.DstPort), true)
		if len(u.Payload) == 1 && u.Payload[0] == 0xff {
			w.Proto, w.Summary = "nat-keepalive", "NAT-keepalive"
		} else {
			w.Encap = u.SrcPort == ike.PortNATT || u.DstPort == ike.PortNATT
		}
	} else {
		w.Src, w.Dst = n.addrText(netip.AddrPortFrom(ip.Src, 0), false), n.addrText(netip.AddrPortFrom(ip.Dst, 0), false)
	}
	if ip.Protocol == ipsec.ProtoICMP || ip.Protocol == ipsec.ProtoICMPv6 {
		w.Summary = PacketSummary(ip)
	}
	if meta == nil {
		return
	}
	switch {
	case meta.ike != nil:
		trace.DescribeIKE(e, meta.ike)
	case meta.sa != nil:
		w.Proto, w.Summary = "esp", meta.summary
		if ip.Protocol == ipsec.ProtoAH {
			w.Proto = "ah"
		}
		w.SPI = trace.Hex32(meta.sa.SPI)
	}
}
