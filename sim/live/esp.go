package live

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// ESP in userspace. The host's sim.Stack installs the Child SAs, queues what waits for
// them, hands rekeyed SAs over, protects and opens ESP and answers pings, as a simulated
// node's does. The socket is the UDP encapsulation (RFC 3948): the SAs make and open
// plain ESP, the host sends it as the payload of a datagram from the Child SA's local
// port to its remote one, and hands the payload of a datagram without the non-ESP
// marker to the SAD as an ESP packet between the two addresses.

var _ sim.StackHost = (*Host)(nil)

// PrepareChildSAs makes a Child SA's IPsec SAs plain ESP and notes the UDP ends of its
// outbound packets: the socket encapsulates (sim.StackHost).
func (h *Host) PrepareChildSAs(c *ike.ChildSAInfo, in, out *ipsec.SA) {
	in.Encap, out.Encap = nil, nil
	if !c.Encap {
		h.Errorf("Child SA %s is not UDP-encapsulated: its ESP would need raw IP sockets, which a live node does not use (encap: yes asks for ESP in UDP)", c.Child)
	}
	if !c.NoOutbound {
		h.espPorts[out.SPI] = espEnds{c.Local, c.Remote}
	}
}

// ChildSADown removes a Child SA pair (ike.Observer).
func (h *Host) ChildSADown(c *ike.ChildSAInfo, reason string) {
	h.Stack.ChildSADown(c, reason)
	delete(h.espPorts, c.SPIOut)
}

// Later runs f on the event loop after d (sim.StackHost).
func (h *Host) Later(d time.Duration, f func()) {
	lt := &liveTimer{h: h}
	h.timers[lt] = struct{}{}
	lt.t = time.AfterFunc(d, func() {
		h.post(func() {
			if lt.ended {
				return
			}
			lt.ended = true
			delete(h.timers, lt)
			f()
		})
	})
}

// Bypass refuses a packet no protect policy covers: a live node sends only through its
// Child SAs (sim.StackHost).
func (h *Host) Bypass(ip *ipsec.IPv4, pkt []byte, _ *sim.PacketMeta, ref int) {
	h.drop(ref, trace.DropPolicy, fmt.Sprintf("no IPsec policy protects %s → %s, and a live node sends only through its Child SAs", ip.Src, ip.Dst))
}

// SendProtected sends the ESP packet of a protected one in a datagram between the
// Child SA's UDP ends (sim.StackHost).
func (h *Host) SendProtected(out []byte, sa *ipsec.SA, summary string) {
	outer, err := ipsec.ParseIP(out)
	if err != nil || outer.Protocol != ipsec.ProtoESP {
		h.drop(0, trace.DropESP, fmt.Sprintf("SA 0x%08x made no ESP packet a live node can send in UDP", sa.SPI))
		return
	}
	ends, ok := h.espPorts[sa.SPI]
	if !ok {
		h.drop(0, trace.DropOther, fmt.Sprintf("no UDP ends for outbound SA 0x%08x", sa.SPI))
		return
	}
	e := &trace.Event{Kind: trace.KindMessage, Wire: &trace.Wire{From: h.cfg.Node, To: h.peer(ends.remote.Addr()),
		Src: ends.local.String(), Dst: ends.remote.String(), Proto: "esp", Encap: true, SPI: fmt.Sprintf("%08x", sa.SPI),
		Summary: summary}}
	d := h.dissector()
	d.SA = func(uint32, netip.Addr) *ipsec.SA { return sa }
	h.transmit(e, ends.local, ends.remote, outer.Payload, d)
}

// SourceFor picks the source of a packet to dst (sim.StackHost): the first inner
// address (the virtual IP first) whose traffic to dst a protect policy covers, else the
// first one.
func (h *Host) SourceFor(dst netip.Addr) netip.Addr {
	addrs := h.cfg.Addrs
	if h.VirtualIP.IsValid() {
		addrs = append([]netip.Addr{h.VirtualIP}, addrs...)
	}
	proto := uint8(ipsec.ProtoICMP)
	if dst.Is6() {
		proto = ipsec.ProtoICMPv6
	}
	for _, a := range addrs {
		if a.Is6() != dst.Is6() {
			continue
		}
		pol := h.SPD.Lookup(ipsec.Out, ipsec.Flow{Src: a, Dst: dst, Proto: proto})
		if pol != nil && pol.Action == ipsec.ActionProtect {
			return a
		}
	}
	for _, a := range addrs {
		if a.Is6() == dst.Is6() {
			return a
		}
	}
	if len(addrs) > 0 {
		return addrs[0]
	}
	return h.addr.Addr()
}

// receiveESP opens an ESP packet that came in UDP, whose message event is msg, and
// handles the packet inside.
func (h *Host) receiveESP(local, remote netip.AddrPort, esp []byte, msg *trace.Event) {
	w := trace.WireOf(msg)
	ip := &ipsec.IPv4{TTL: 64, Protocol: ipsec.ProtoESP, Src: remote.Addr(), Dst: local.Addr(), Payload: esp}
	if local.Addr().Is6() {
		ip.Version = 6
	}
	outer, err := ip.Marshal()
	if err != nil {
		h.drop(msg.Seq, trace.DropESP, "ESP: "+err.Error())
		return
	}
	in, inner := h.Unprotect(outer, msg.Seq)
	if in == nil {
		return
	}
	w.Summary += " {" + sim.PacketSummary(in) + "}"
	h.deliver(in, inner, msg.Seq)
}

// own reports whether a is one of the node's inner addresses.
func (h *Host) own(a netip.Addr) bool {
	if h.VirtualIP.IsValid() && a == h.VirtualIP {
		return true
	}
	for _, x := range h.cfg.Addrs {
		if x == a {
			return true
		}
	}
	return false
}

// deliver handles a packet that came out of a Child SA: the node answers echo requests
// (ICMP and ICMPv6) to its own addresses and counts the replies to its pings; it
// forwards nothing.
func (h *Host) deliver(ip *ipsec.IPv4, pkt []byte, ref int) {
	if !h.own(ip.Dst) {
		h.drop(ref, trace.DropNotForUs, fmt.Sprintf("%s is not an address of %s, and a live node forwards nothing", ip.Dst, h.cfg.Node))
		return
	}
	if ip.Protocol != ipsec.ProtoICMP && ip.Protocol != ipsec.ProtoICMPv6 {
		h.drop(ref, trace.DropUnreach, fmt.Sprintf("%s to %s: the live node answers only pings", ipsec.ProtoName(ip.Protocol), ip.Dst))
		return
	}
	h.ICMP(ip, pkt, ref)
}

// Ping sends count echo requests to dst, one every interval, from the node's inner
// address whose traffic to dst a policy protects (SourceFor). Call it on the event loop.
func (h *Host) Ping(dst netip.Addr, count int, interval time.Duration) *sim.Ping {
	return h.SendPings(netip.Addr{}, dst, count, interval)
}
