package live

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// ESP in userspace. The socket is the UDP encapsulation (RFC 3948): the node's SAs make
// and open plain ESP, the host sends it as the payload of a datagram from the Child SA's
// local port to its remote one, and hands the payload of a datagram without the non-ESP
// marker to the SAD as an ESP packet between the two addresses.

// ChildSAUp installs a Child SA pair and its policies (ike.Observer), and sends the
// packets that waited for it.
func (h *Host) ChildSAUp(c *ike.ChildSAInfo) {
	in, out, err := sim.NewChildSAs(c, h.rand, time.Now(), h.nextID)
	if err != nil {
		h.Errorf("cannot install Child SA %s: %v", c.Child, err)
		return
	}
	in.Encap, out.Encap = nil, nil // the socket encapsulates
	if !c.Encap {
		h.Errorf("Child SA %s is not UDP-encapsulated: its ESP would need raw IP sockets, which a live node does not use (encap: yes asks for ESP in UDP)", c.Child)
	}
	if c.Rekeyed != 0 {
		h.Action(fmt.Sprintf("Rekeyed: new Child SA with outbound SPI 0x%08x replaces the one with inbound SPI 0x%08x", c.SPIOut, c.Rekeyed))
	}
	if err := h.SAD.AddInbound(in); err != nil {
		h.Errorf("cannot install Child SA %s: %v", c.Child, err)
		return
	}
	if c.Rekeyed != 0 && c.KeepOldOutbound {
		// The peer may not have its new inbound SA yet: send on the old one until it goes.
		h.waitingOut[c.Rekeyed] = out
	} else if err := h.SAD.AddOutbound(out); err != nil {
		h.SAD.DeleteInbound(in.SPI)
		h.Errorf("cannot install Child SA %s: %v", c.Child, err)
		return
	}
	h.espPorts[out.SPI] = espEnds{c.Local, c.Remote}
	added := sim.InstallPolicies(h.SPD, c.ReqID, c.Conn+"/"+c.Child, c.LocalTS, c.RemoteTS)
	h.ChildSA(trace.OpUp, c, "", added)
	q := h.acquired[c.ReqID]
	delete(h.acquired, c.ReqID)
	if len(q) > 0 {
		h.Action(fmt.Sprintf("Send the %d packet(s) that waited for this SA", len(q)))
	}
	for _, p := range q {
		h.SendIP(p)
	}
}

// ChildSADown removes a Child SA pair (ike.Observer).
func (h *Host) ChildSADown(c *ike.ChildSAInfo, reason string) {
	h.SAD.DeleteInbound(c.SPIIn)
	h.SAD.DeleteOutbound(c.SPIOut)
	delete(h.espPorts, c.SPIOut)
	if out := h.waitingOut[c.SPIIn]; out != nil {
		delete(h.waitingOut, c.SPIIn)
		if err := h.SAD.AddOutbound(out); err != nil {
			h.Errorf("cannot switch to the new outbound SA 0x%08x: %v", out.SPI, err)
		}
	}
	// strongSwan uninstalls a CHILD_SA's policies with its last SA; only a trap policy
	// (start_action trigger) stays, and starts IKE for the next packet. So a child with
	// start_action none or start that the peer deleted comes back only by an initiate.
	if h.SAD.Outbound(c.ReqID) == nil && !h.trapped(c.ReqID) {
		if n := h.SPD.Remove(c.Conn + "/" + c.Child); n > 0 {
			h.Action(fmt.Sprintf("Child SA %s is gone and has no trap policy (start_action trigger): remove its %d IPsec policies, so that its traffic no longer starts IKE", c.Child, n))
		}
	}
	h.ChildSA(trace.OpDown, c, reason, nil)
}

// trapped reports whether reqid is a child's with start_action trigger.
func (h *Host) trapped(reqid uint32) bool {
	if h.IKE == nil {
		return false
	}
	return slices.ContainsFunc(h.IKE.Traps(), func(t ike.Trap) bool { return t.ReqID == reqid })
}

// AcquireFailed drops the packets that waited for a Child SA IKE could not set up
// (ike.AcquireHost).
func (h *Host) AcquireFailed(reqid uint32, reason string) {
	for range h.acquired[reqid] {
		h.drop(0, trace.DropNoSA, "no IPsec SA: "+reason)
	}
	delete(h.acquired, reqid)
}

// receiveESP opens an ESP packet that came in UDP, whose message event is msg, and
// handles the packet inside.
func (h *Host) receiveESP(local, remote netip.AddrPort, esp []byte, msg *trace.Event) {
	ip := &ipsec.IPv4{TTL: 64, Protocol: ipsec.ProtoESP, Src: remote.Addr(), Dst: local.Addr(), Payload: esp}
	if local.Addr().Is6() {
		ip.Version = 6
	}
	outer, err := ip.Marshal()
	if err != nil {
		h.drop(msg.Seq, trace.DropESP, "ESP: "+err.Error())
		return
	}
	inner, sa, err := h.SAD.Unprotect(outer)
	if err != nil {
		h.drop(msg.Seq, sim.ESPDropCause(err), "ESP: "+err.Error())
		return
	}
	in, err := ipsec.ParseIP(inner)
	if err != nil {
		h.drop(msg.Seq, trace.DropMalformed, "ESP: inner packet: "+err.Error())
		return
	}
	msg.Summary += " {" + sim.PacketSummary(&in) + "}"
	h.Action(fmt.Sprintf("Decrypt ESP (SPI 0x%08x, sequence checked by the anti-replay window): %s", sa.SPI, sim.PacketSummary(&in)))
	h.deliver(&in, inner, msg.Seq)
}

// own reports whether a is one of the node's inner addresses.
func (h *Host) own(a netip.Addr) bool {
	if h.virtualIP.IsValid() && a == h.virtualIP {
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
// to its own addresses and counts the replies to its pings; it forwards nothing.
func (h *Host) deliver(ip *ipsec.IPv4, pkt []byte, ref int) {
	if !h.own(ip.Dst) {
		h.drop(ref, trace.DropNotForUs, fmt.Sprintf("%s is not an address of %s, and a live node forwards nothing", ip.Dst, h.cfg.Node))
		return
	}
	if ip.Protocol != ipsec.ProtoICMP {
		h.drop(ref, trace.DropUnreach, fmt.Sprintf("%s to %s: the live node answers only pings", ipsec.ProtoName(ip.Protocol), ip.Dst))
		return
	}
	ic, err := ipsec.ParseICMP(ip.Payload)
	if err != nil {
		h.drop(ref, trace.DropMalformed, "malformed ICMP: "+err.Error())
		return
	}
	switch ic.Type {
	case ipsec.ICMPEchoRequest:
		reply, err := ipsec.EchoReply(pkt, h.nextID())
		if err != nil {
			h.drop(ref, trace.DropOther, "cannot answer the echo request: "+err.Error())
			return
		}
		h.Action(fmt.Sprintf("Answer the echo request from %s with an echo reply", ip.Src))
		h.SendIP(reply)
	case ipsec.ICMPEchoReply:
		if p := h.pings[ic.ID]; p != nil {
			p.reply(h, ic.Seq)
		}
	}
}

// SendIP sends an IPv4 packet the node made through the Child SA its policy names,
// asking IKE for one (an acquire) when it does not exist yet. Call it on the event loop.
func (h *Host) SendIP(pkt []byte) {
	flow, err := ipsec.FlowOf(pkt)
	if err != nil {
		h.drop(0, trace.DropMalformed, err.Error())
		return
	}
	pol := h.SPD.Lookup(ipsec.Out, flow)
	switch {
	case pol == nil || pol.Action == ipsec.ActionBypass:
		h.drop(0, trace.DropPolicy, fmt.Sprintf("no IPsec policy protects %s → %s, and a live node sends only through its Child SAs", flow.Src, flow.Dst))
		return
	case pol.Action == ipsec.ActionDiscard:
		h.drop(0, trace.DropPolicy, fmt.Sprintf("discarded by policy %s", pol.Name))
		return
	}
	sa := h.SAD.Outbound(pol.Reqid)
	if sa == nil {
		h.acquire(pol, pkt)
		return
	}
	out, err := sa.Protect(pkt)
	if err != nil {
		h.drop(0, trace.DropESP, "ESP: "+err.Error())
		return
	}
	outer, err := ipsec.ParseIP(out)
	if err != nil {
		h.drop(0, trace.DropESP, "ESP: "+err.Error())
		return
	}
	ends, ok := h.espPorts[sa.SPI]
	if !ok {
		h.drop(0, trace.DropOther, fmt.Sprintf("no UDP ends for outbound SA 0x%08x", sa.SPI))
		return
	}
	inner, _ := ipsec.ParseIP(pkt)
	e := &trace.Event{Kind: trace.KindMessage, From: h.cfg.Node, To: h.peer(ends.remote.Addr()), Src: ends.local.String(),
		Dst: ends.remote.String(), Proto: "esp", Encap: true, SPI: fmt.Sprintf("%08x", sa.SPI),
		Summary: fmt.Sprintf("ESP SPI 0x%08x seq %d {%s}", sa.SPI, sa.Stats().Packets, sim.PacketSummary(&inner))}
	d := h.dissector()
	d.SA = func(uint32, netip.Addr) *ipsec.SA { return sa }
	h.transmit(e, ends.local, ends.remote, outer.Payload, d)
}

// acquire queues a packet and asks IKE for the SA of its policy, once.
func (h *Host) acquire(pol *ipsec.Policy, pkt []byte) {
	q := h.acquired[pol.Reqid]
	if len(q) >= 32 {
		h.drop(0, trace.DropQueueFull, "acquire queue full while waiting for the IPsec SA")
		return
	}
	h.acquired[pol.Reqid] = append(q, pkt)
	if len(q) > 0 || h.IKE == nil {
		return
	}
	h.Action(fmt.Sprintf("Packet matches IPsec policy %s but no SA exists: queue it and ask IKE for an SA (acquire)", pol.Name))
	h.IKE.Acquire(pol.Reqid)
}

// Ping is a run of echo requests from the node and the replies it got.
type Ping struct {
	To       netip.Addr
	Count    int
	ID       uint16
	Sent     int
	Answered int
	replied  map[uint16]bool
}

var pingData = []byte("ikesim live echo data 0123456789")

// Ping sends count echo requests to dst, one every interval, from the node's inner
// address whose traffic to dst a policy protects. Call it on the event loop.
func (h *Host) Ping(dst netip.Addr, count int, interval time.Duration) *Ping {
	count, interval = max(count, 1), max(interval, 10*time.Millisecond)
	p := &Ping{To: dst, Count: count, ID: uint16(0x2000 + len(h.pings)), replied: map[uint16]bool{}}
	h.pings[p.ID] = p
	src := h.sourceFor(dst)
	for i := range count {
		seq := uint16(i + 1)
		send := func() {
			p.Sent++
			h.Recorder.Ping(trace.PingRecord{Op: trace.PingRequest, Dst: dst.String(), ID: p.ID, Seq: seq, Count: count},
				fmt.Sprintf("ping %s: send ICMP echo request %d of %d from %s", dst, seq, count, src))
			pkt, err := ipsec.NewEchoRequest(src, dst, h.nextID(), p.ID, seq, pingData)
			if err != nil {
				h.Errorf("ping: %v", err)
				return
			}
			h.SendIP(pkt)
		}
		if i == 0 {
			send()
		} else {
			h.AfterFunc(time.Duration(i)*interval, fmt.Sprintf("ping %s, request %d", dst, seq), send)
		}
	}
	return p
}

// sourceFor picks the source of a packet to dst: the first inner address whose traffic
// to dst a protect policy covers, else the first one.
func (h *Host) sourceFor(dst netip.Addr) netip.Addr {
	addrs := h.cfg.Addrs
	if h.virtualIP.IsValid() {
		addrs = append([]netip.Addr{h.virtualIP}, addrs...)
	}
	for _, a := range addrs {
		pol := h.SPD.Lookup(ipsec.Out, ipsec.Flow{Src: a, Dst: dst, Proto: ipsec.ProtoICMP})
		if pol != nil && pol.Action == ipsec.ActionProtect {
			return a
		}
	}
	if len(addrs) > 0 {
		return addrs[0]
	}
	return h.addr.Addr()
}

func (p *Ping) reply(h *Host, seq uint16) {
	rec := trace.PingRecord{Op: trace.PingDuplicate, Dst: p.To.String(), ID: p.ID, Seq: seq, Count: p.Count, Answered: p.Answered}
	if p.replied[seq] {
		h.Recorder.Ping(rec, fmt.Sprintf("ping %s: duplicate echo reply %d", p.To, seq))
		return
	}
	p.replied[seq] = true
	p.Answered++
	rec.Op, rec.Answered = trace.PingReply, p.Answered
	h.Recorder.Ping(rec, fmt.Sprintf("ping %s: echo reply %d received (%d of %d answered)", p.To, seq, p.Answered, p.Count))
}
