package sim

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// The host stack a simulated node (Node) and a live host (sim/live) share: one Stack
// each, embedded. It is the IKE engine's ike.AcquireHost, ike.VirtualIPHost and
// ike.TrafficHost, and the part of its ike.Observer that installs what the engine
// negotiated: the IPsec SAs and protect policies of each Child SA, the packets that
// wait for one (the acquire queue), the hand-over from a rekeyed SA to its successor,
// ESP and AH in and out, and pings. What differs between the two hosts, how a packet
// reaches the wire, is the StackHost under it.

// StackHost is the machine under a Stack.
type StackHost interface {
	// Now is the host's clock.
	Now() time.Time
	// Later runs f after d on the host's event loop, unless the host is down by then.
	Later(d time.Duration, f func())
	// Bypass handles an outbound packet that no protect policy covers; ref is the
	// message event it was received as (0 for a packet made here).
	Bypass(ip *ipsec.IPv4, pkt []byte, meta *PacketMeta, ref int)
	// SendProtected puts a packet the SAD protected with sa on the wire; summary
	// describes it for people ("ESP SPI 0x... seq 1 {ICMP echo request ...}").
	SendProtected(out []byte, sa *ipsec.SA, summary string)
	// PrepareChildSAs adapts the IPsec SAs of a Child SA to the host before the stack
	// installs them.
	PrepareChildSAs(c *ike.ChildSAInfo, in, out *ipsec.SA)
	// SourceFor is the source address of a packet the host makes for dst.
	SourceFor(dst netip.Addr) netip.Addr
}

// Stack is a host's IPsec stack: its SPD and SAD, the IKE engine that fills them, and
// what waits on them.
type Stack struct {
	SPD *ipsec.SPD
	SAD *ipsec.SAD
	IKE ike.Daemon
	// VirtualIP is an inner address assigned by Mode Config or CP.
	VirtualIP netip.Addr

	host StackHost
	rec  *trace.Recorder
	rand io.Reader // CBC IVs
	ipID uint16
	// acquired holds the packets that wait for a Child SA, by reqid.
	acquired map[uint32][]queued
	// waitingOut holds a rekeyed outbound SA until the SA it replaces (by inbound SPI) is
	// deleted.
	waitingOut map[uint32]*ipsec.SA
	// traffic and trafficOut find the counts of a Child SA by its inbound and its
	// outbound SPI (traffic.go).
	traffic, trafficOut map[uint32]*childTraffic
	pings               map[uint16]*Ping // by ICMP identifier
}

// queued is a packet waiting for its Child SA.
type queued struct {
	pkt  []byte
	meta *PacketMeta
}

var (
	_ ike.AcquireHost   = (*Stack)(nil)
	_ ike.VirtualIPHost = (*Stack)(nil)
	_ ike.TrafficHost   = (*Stack)(nil)
)

// NewStack makes an empty stack on host; rec records its events and rand gives its
// random bytes.
func NewStack(host StackHost, rec *trace.Recorder, rand io.Reader) Stack {
	s := Stack{host: host, rec: rec, rand: rand, pings: map[uint16]*Ping{}}
	s.Reset()
	return s
}

// Reset forgets every SA, policy and queued packet, as a host that restarts does.
func (s *Stack) Reset() {
	s.SPD, s.SAD = &ipsec.SPD{}, &ipsec.SAD{}
	s.waitingOut, s.traffic, s.trafficOut = nil, nil, nil
	s.acquired = map[uint32][]queued{}
}

// NextID numbers the IP header of a packet the host makes.
func (s *Stack) NextID() uint16 {
	s.ipID++
	return s.ipID
}

// AssignVirtualIP takes the inner address Mode Config or CP assigned (ike.VirtualIPHost):
// the host answers to it and sends its own traffic from it.
func (s *Stack) AssignVirtualIP(a netip.Addr) {
	if a.IsValid() {
		s.rec.Action(fmt.Sprintf("Take virtual IP %s as the inner address: pings from this node now come from it", a))
	} else if s.VirtualIP.IsValid() {
		s.rec.Action(fmt.Sprintf("Give back virtual IP %s", s.VirtualIP))
	}
	s.VirtualIP = a
}

// ChildSAUp installs a Child SA pair and its policies (ike.Observer), and sends what
// waited for it.
func (s *Stack) ChildSAUp(c *ike.ChildSAInfo) {
	in, out, err := NewChildSAs(c, s.rand, s.host.Now(), s.NextID)
	if err != nil {
		s.rec.Errorf("cannot install Child SA %s: %v", c.Child, err)
		return
	}
	s.host.PrepareChildSAs(c, in, out)
	switch {
	case c.NoOutbound:
		s.rec.Action(fmt.Sprintf("This new SA lost a rekey collision and is deleted at once: install its inbound SA 0x%08x only, send nothing on it", c.SPIIn))
	case c.Rekeyed != 0 && c.KeepOldOutbound:
		s.rec.Action(fmt.Sprintf("Rekeyed by the peer: accept on the new SA at once, but go on sending on the old one until the peer deletes it (new outbound SPI 0x%08x waits)", c.SPIOut))
	case c.Rekeyed != 0:
		// The old inbound SA stays until the delete; outbound traffic moves to the new SA now.
		s.rec.Action(fmt.Sprintf("Rekeyed: new outbound SA 0x%08x replaces the SA with inbound SPI 0x%08x", c.SPIOut, c.Rekeyed))
	}
	if err := s.SAD.AddInbound(in); err != nil {
		s.rec.Errorf("cannot install Child SA %s: %v", c.Child, err)
		return
	}
	if c.Rekeyed != 0 && !c.KeepOldOutbound && !c.NoOutbound {
		// This side's own rekey won: an SA the peer's colliding rekey made for the same
		// old SA is never sent on.
		delete(s.waitingOut, c.Rekeyed)
	}
	switch {
	case c.NoOutbound:
	case c.Rekeyed != 0 && c.KeepOldOutbound:
		// The peer may not have its new inbound SA yet: send on the old one until it goes.
		if s.waitingOut == nil {
			s.waitingOut = map[uint32]*ipsec.SA{}
		}
		s.waitingOut[c.Rekeyed] = out
	default:
		if err := s.SAD.AddOutbound(out); err != nil {
			s.SAD.DeleteInbound(in.SPI)
			s.rec.Errorf("cannot install Child SA %s: %v", c.Child, err)
			return
		}
	}
	s.trackChild(c, in, out)
	added := InstallPolicies(s.SPD, c.ReqID, c.Conn+"/"+c.Child, c.LocalTS, c.RemoteTS)
	s.rec.ChildSA(trace.OpUp, c, "", added)
	if c.Bundle {
		return // what waits goes once the bundle's ESP SAs, reported next, are up
	}
	q := s.acquired[c.ReqID]
	delete(s.acquired, c.ReqID)
	if len(q) > 0 {
		s.rec.Action(fmt.Sprintf("Send the %d packet(s) that waited for this SA", len(q)))
	}
	for _, p := range q {
		if f, err := ipsec.FlowOf(p.pkt); err == nil && !coveredBy(c.LocalTS, f.Src) {
			s.drop(p.pkt, 0, trace.DropSelectors, fmt.Sprintf("queued packet from %s is outside the Child SA's selectors %s (the virtual IP replaces that address)",
				f.Src, strings.Join(trace.Selectors(c.LocalTS), ",")))
			continue
		}
		s.SendIP(p.pkt, p.meta)
	}
}

func coveredBy(ts []ike.TrafficSelector, a netip.Addr) bool {
	for _, t := range ts {
		if a.Compare(t.Start) >= 0 && a.Compare(t.End) <= 0 {
			return true
		}
	}
	return false
}

// ChildSADown removes a Child SA pair (ike.Observer). With the last SA of its reqid go
// its policies, unless they are a trap's: strongSwan uninstalls a CHILD_SA's policies
// with it, and only a trap policy (start_action trigger, or the trap that dpd_action or
// close_action trap installs) stays to start IKE for the next packet. So a child
// without one that is gone comes back only by an initiate, and its traffic no longer
// waits for one.
func (s *Stack) ChildSADown(c *ike.ChildSAInfo, reason string) {
	s.SAD.DeleteInbound(c.SPIIn)
	s.SAD.DeleteOutbound(c.SPIOut)
	for old, out := range s.waitingOut {
		if out.SPI == c.SPIOut { // it goes before the SA it waited for
			delete(s.waitingOut, old)
		}
	}
	if out := s.waitingOut[c.SPIIn]; out != nil {
		delete(s.waitingOut, c.SPIIn)
		if err := s.SAD.AddOutbound(out); err != nil {
			s.rec.Errorf("cannot switch to the new outbound SA 0x%08x: %v", out.SPI, err)
		} else {
			s.rec.Action(fmt.Sprintf("The old SA is gone: send on the new outbound SA 0x%08x from now on", out.SPI))
		}
	}
	s.untrackChild(c)
	var removed []*ipsec.Policy
	if s.SAD.Outbound(c.ReqID) == nil && !c.TrapOnEnd && !s.trapped(c.ReqID) {
		removed = s.SPD.RemoveChild(c.Conn+"/"+c.Child, c.ReqID)
		if n := len(removed); n > 0 {
			s.rec.Action(fmt.Sprintf("Child SA %s is gone and has no trap policy (start_action trigger, dpd_action or close_action trap): remove its %d IPsec policies, so that its traffic no longer starts IKE", c.Child, n))
		}
	}
	s.rec.ChildSA(trace.OpDown, c, reason, removed)
}

// trapped reports whether reqid is a child's with start_action trigger.
func (s *Stack) trapped(reqid uint32) bool {
	if s.IKE == nil {
		return false
	}
	return slices.ContainsFunc(s.IKE.Traps(), func(t ike.Trap) bool { return t.ReqID == reqid })
}

// AcquireFailed drops the packets that waited for a Child SA IKE could not set up
// (ike.AcquireHost); the next matching packet starts a new attempt.
func (s *Stack) AcquireFailed(reqid uint32, reason string) {
	q := s.acquired[reqid]
	delete(s.acquired, reqid)
	for _, p := range q {
		s.drop(p.pkt, 0, trace.DropNoSA, "no IPsec SA: "+reason)
	}
}

// SendIP originates an IP packet: outbound policy (protect, bypass, discard), then the
// host's wire. A packet that needs an SA which does not exist yet waits for IKE.
func (s *Stack) SendIP(pkt []byte, meta *PacketMeta) {
	ip, err := parseIP(pkt)
	if err != nil {
		s.drop(pkt, 0, trace.DropMalformed, "malformed IPv4 packet: "+err.Error())
		return
	}
	s.outbound(ip, pkt, meta, 0)
}

// outbound applies the SPD to a packet the host originates or forwards.
func (s *Stack) outbound(ip *ipsec.IPv4, pkt []byte, meta *PacketMeta, ref int) {
	flow, err := ipsec.FlowOf(pkt)
	if err != nil {
		s.drop(pkt, ref, trace.DropMalformed, err.Error())
		return
	}
	pol := s.SPD.Lookup(ipsec.Out, flow)
	if pol == nil || pol.Action == ipsec.ActionBypass {
		s.host.Bypass(ip, pkt, meta, ref)
		return
	}
	if pol.Action == ipsec.ActionDiscard {
		s.drop(pkt, ref, trace.DropPolicy, fmt.Sprintf("discarded by policy %s", pol.Name))
		return
	}
	if s.SAD.Outbound(pol.Reqid) == nil {
		s.acquire(pol, pkt, meta)
		return
	}
	s.protect(pol.Reqid, ip, pkt, ref)
}

// protect applies the SAs of the Reqid (SAD.Protect: ESP, AH, or an AH+ESP bundle).
func (s *Stack) protect(reqid uint32, ip *ipsec.IPv4, pkt []byte, ref int) {
	out, sa, err := s.SAD.Protect(reqid, pkt)
	if err != nil {
		s.drop(pkt, ref, trace.DropESP, ipsecName(out, sa)+": "+err.Error())
		return
	}
	s.countedOut(sa)
	s.host.SendProtected(out, sa, ipsecName(out, sa)+" SPI 0x"+trace.Hex32(sa.SPI)+" seq "+strconv.FormatUint(sa.Stats().Packets, 10)+
		" {"+PacketSummary(ip)+"}")
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
func (s *Stack) acquire(pol *ipsec.Policy, pkt []byte, meta *PacketMeta) {
	q := s.acquired[pol.Reqid]
	if len(q) >= 32 {
		s.drop(pkt, 0, trace.DropQueueFull, "acquire queue full while waiting for the IPsec SA")
		return
	}
	s.acquired[pol.Reqid] = append(q, queued{pkt, meta})
	if len(q) > 0 {
		s.rec.Action("Queue the packet: the IPsec SA for policy " + pol.Name + " is still being negotiated")
		return
	}
	s.rec.Action("Packet matches IPsec policy " + pol.Name + " but no SA exists: queue it and ask IKE for an SA (acquire)")
	if s.IKE == nil {
		s.rec.Action("No IKE daemon on this node: the packet waits in vain")
		return
	}
	s.IKE.Acquire(pol.Reqid)
}

// Unprotect opens an ESP or AH packet that reached the host, whose message event is ref,
// and returns the packet inside; it records a drop and returns nil when the SAD refuses
// it.
func (s *Stack) Unprotect(pkt []byte, ref int) (*ipsec.IPv4, []byte) {
	proto := "ESP"
	if len(pkt) > 9 && pkt[9] == ipsec.ProtoAH {
		proto = "AH"
	}
	inner, sa, err := s.SAD.Unprotect(pkt)
	if err != nil {
		s.dropIPsec(pkt, ref, proto, err)
		return nil, nil
	}
	ip, err := parseIP(inner)
	if err != nil {
		s.drop(pkt, ref, trace.DropMalformed, proto+": inner packet: "+err.Error())
		return nil, nil
	}
	s.countedIn(sa)
	switch {
	case sa.IsAH():
		s.rec.Action("Verify AH (SPI 0x" + trace.Hex32(sa.SPI) + ", ICV over the packet and its addresses, sequence checked by the anti-replay window): " + PacketSummary(ip))
	case proto == "AH":
		s.rec.Action("Verify AH, then decrypt the ESP inside it (ESP SPI 0x" + trace.Hex32(sa.SPI) + "): " + PacketSummary(ip))
	default:
		s.rec.Action("Decrypt ESP (SPI 0x" + trace.Hex32(sa.SPI) + ", sequence checked by the anti-replay window): " + PacketSummary(ip))
	}
	return ip, inner
}

// ICMP handles an ICMP or ICMPv6 message to one of the host's addresses: it answers echo
// requests and gives echo replies to the ping that waits for them.
func (s *Stack) ICMP(ip *ipsec.IPv4, pkt []byte, ref int) {
	ic, err := parseICMP(ip)
	if err != nil {
		s.drop(pkt, ref, trace.DropMalformed, "malformed ICMP: "+err.Error())
		return
	}
	switch ic.Type {
	case ipsec.ICMPEchoRequest, ipsec.ICMPv6EchoRequest:
		reply, err := ipsec.EchoReply(pkt, s.NextID())
		if err != nil {
			s.drop(pkt, ref, trace.DropOther, "cannot answer echo request: "+err.Error())
			return
		}
		s.SendIP(reply, nil)
	case ipsec.ICMPEchoReply, ipsec.ICMPv6EchoReply:
		if p := s.pings[ic.ID]; p != nil {
			p.reply(s.rec, ic.Seq)
		}
	}
}

// drop records a packet the host discards; ref is the message event it came in as.
func (s *Stack) drop(pkt []byte, ref int, cause trace.DropCause, reason string) {
	s.emitDrop(&trace.Event{Kind: trace.KindDrop, Text: reason, Wire: &trace.Wire{Ref: ref, Cause: cause, Bytes: pkt}})
}

// dropIPsec records an inbound packet that ESP or AH (proto) refused, with the refusal as
// data.
func (s *Stack) dropIPsec(pkt []byte, ref int, proto string, err error) {
	s.emitDrop(&trace.Event{Kind: trace.KindDrop, Text: proto + ": " + err.Error(), Wire: &trace.Wire{Ref: ref,
		Cause: espDropCause(err), Bytes: pkt, IPsec: ipsecDropOf(proto, err)}})
}

// emitDrop records a drop event with the addresses of its packet.
func (s *Stack) emitDrop(e *trace.Event) {
	w := trace.WireOf(e)
	if ip, err := parseIP(e.Bytes()); err == nil {
		w.Src, w.Dst, w.Proto = ip.Src.String(), ip.Dst.String(), protoName(ip)
	}
	e.Node = s.rec.Node
	s.rec.Emit(e)
}

// espDropCause is the trace's cause for an inbound ESP packet the SAD refused with err:
// selectors when it decrypted to a packet outside its Child SA's selectors (RFC 4301,
// Section 5.2), esp for every other refusal.
func espDropCause(err error) trace.DropCause {
	if errors.Is(err, ipsec.DropSelectors) {
		return trace.DropSelectors
	}
	return trace.DropESP
}

// ipsecDropOf is the trace's fact of a packet the SAD refused with err; proto is ESP or
// AH, the packet's outer IPsec header.
func ipsecDropOf(proto string, err error) *trace.IPsecDrop {
	d := &trace.IPsecDrop{Proto: strings.ToLower(proto), Reason: "other"}
	var de *ipsec.DropError
	if errors.As(err, &de) {
		d.Reason, d.Seq, d.AddressChanged = de.Reason.String(), de.Seq, de.AddressChanged
		if de.SPI != 0 {
			d.SPI = trace.Hex32(de.SPI)
		}
	}
	return d
}

// NewChildSAs makes the inbound and outbound IPsec SAs of a Child SA. rand gives the CBC
// IVs, created is when they are installed and nextID numbers the outer headers of
// tunnel mode packets.
//
// An AH Child SA (Protocol ProtoAH) makes AH SAs. One with Bundle set goes over the ESP
// SA of its ReqID: in transport mode between the outer addresses, with no selectors of
// its own, since the ESP SA inside it checks them.
func NewChildSAs(c *ike.ChildSAInfo, rand io.Reader, created time.Time, nextID func() uint16) (in, out *ipsec.SA, err error) {
	var encr *ike.EncrAlg
	et, ok := c.Proposal.Transform(ike.TransformENCR)
	switch {
	case c.Protocol == ike.ProtoAH:
	case !ok:
		return nil, nil, fmt.Errorf("no encryption transform")
	case ike.Encr(et.ID) == nil:
		return nil, nil, fmt.Errorf("unknown encryption transform %d", et.ID)
	default:
		encr = ike.Encr(et.ID)
	}
	var integ *ike.IntegAlg
	if it, ok := c.Proposal.Transform(ike.TransformINTEG); ok && it.ID != 0 {
		if integ = ike.Integ(it.ID); integ == nil {
			return nil, nil, fmt.Errorf("unknown integrity transform %d", it.ID)
		}
	}
	esn := false
	if t, ok := c.Proposal.Transform(ike.TransformESN); ok {
		esn = t.ID == 1
	}
	mode := ipsec.Tunnel
	if c.Transport || c.Bundle {
		mode = ipsec.Transport
	}
	proto := ipsec.ProtoESP
	if c.Protocol == ike.ProtoAH {
		proto = ipsec.ProtoAH
	}
	mk := func(spi uint32, src, dst netip.AddrPort, ek, ik []byte) *ipsec.SA {
		sa := &ipsec.SA{SPI: spi, Protocol: proto, Src: src.Addr(), Dst: dst.Addr(), Reqid: c.ReqID, Encr: encr, EncrKeyBits: et.KeyLen,
			EncrKey: ek, Integ: integ, IntegKey: ik, Mode: mode, ESN: esn, Rand: rand, Created: created, NextID: nextID,
			NAT: c.BehindNAT}
		if c.Encap {
			sa.Encap = &ipsec.UDPEncap{SrcPort: src.Port(), DstPort: dst.Port()}
		}
		return sa
	}
	in = mk(c.SPIIn, c.Remote, c.Local, c.EncrKeyIn, c.IntegKeyIn)
	out = mk(c.SPIOut, c.Local, c.Remote, c.EncrKeyOut, c.IntegKeyOut)
	if c.Bundle {
		return in, out, nil
	}
	// What comes out of the inbound SA must lie within the negotiated selectors (RFC
	// 4301, Section 5.2): ipsec checks it after decryption, here and in live mode alike.
	for _, l := range c.LocalTS {
		for _, r := range c.RemoteTS {
			in.Selectors = append(in.Selectors, ipsec.SelectorOf(r, l))
		}
	}
	return in, out, nil
}

// InstallPolicies adds to spd the protect policies of a Child SA: traffic from each
// local selector to each remote one (out) and back (in), unless an equal policy is there.
// It returns the policies it added.
func InstallPolicies(spd *ipsec.SPD, reqid uint32, name string, local, remote []ike.TrafficSelector) []*ipsec.Policy {
	var added []*ipsec.Policy
	for _, l := range local {
		for _, r := range remote {
			for _, p := range []*ipsec.Policy{addPolicy(spd, name, ipsec.Out, l, r, reqid), addPolicy(spd, name, ipsec.In, r, l, reqid)} {
				if p != nil {
					added = append(added, p)
				}
			}
		}
	}
	return added
}

// addPolicy adds a protect policy for traffic from src to dst unless an equal one exists;
// it returns the policy added, or nil.
func addPolicy(spd *ipsec.SPD, name string, dir ipsec.Direction, src, dst ike.TrafficSelector, reqid uint32) *ipsec.Policy {
	sel := ipsec.SelectorOf(src, dst)
	p := &ipsec.Policy{Name: name, Priority: ipsec.DefaultPriority(sel), Direction: dir, Selector: sel,
		Action: ipsec.ActionProtect, Reqid: reqid}
	if added, _ := spd.AddUnique(p); !added {
		return nil
	}
	return p
}

// PacketSummary describes an IPv4 packet in one line, as the trace shows what ESP
// carries: "ICMP echo request 10.1.0.10 → 10.2.0.20 seq 1".
func PacketSummary(ip *ipsec.IPv4) string {
	var buf [96]byte
	b := buf[:0]
	if ip.Protocol == ipsec.ProtoICMP || ip.Protocol == ipsec.ProtoICMPv6 {
		if ic, err := parseICMP(ip); err == nil {
			switch {
			case ic.Type == ipsec.ICMPEchoRequest && !ip.Is6():
				b = append(b, "ICMP echo request"...)
			case ic.Type == ipsec.ICMPEchoReply && !ip.Is6():
				b = append(b, "ICMP echo reply"...)
			case ic.Type == ipsec.ICMPv6EchoRequest:
				b = append(b, "ICMPv6 echo request"...)
			case ic.Type == ipsec.ICMPv6EchoReply:
				b = append(b, "ICMPv6 echo reply"...)
			case ip.Is6():
				b = strconv.AppendUint(append(b, "ICMPv6 type "...), uint64(ic.Type), 10)
			default:
				b = strconv.AppendUint(append(b, "ICMP type "...), uint64(ic.Type), 10)
			}
			b = appendSrcDst(append(b, ' '), ip)
			return string(strconv.AppendUint(append(b, " seq "...), uint64(ic.Seq), 10))
		}
	}
	return string(appendSrcDst(append(append(b, protoName(ip)...), ' '), ip))
}

// appendSrcDst appends "src → dst", the addresses as netip.Addr.String writes them.
func appendSrcDst(b []byte, ip *ipsec.IPv4) []byte {
	return appendAddr(append(appendAddr(b, ip.Src), " → "...), ip.Dst)
}

// appendAddr appends a as netip.Addr.String writes it (AppendTo writes the zero Addr
// as nothing, String as "invalid IP").
func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, a.String()...)
	}
	return a.AppendTo(b)
}

// parseICMP reads the ICMP message of an IPv4 packet or the ICMPv6 message of an IPv6
// one, with its checksum checked.
func parseICMP(ip *ipsec.IPv4) (ipsec.ICMP, error) {
	if ip.Protocol == ipsec.ProtoICMPv6 {
		return ipsec.ParseICMPv6(ip.Payload, ip.Src, ip.Dst)
	}
	return ipsec.ParseICMP(ip.Payload)
}
