package sim

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
)

// The node is the IKE daemon's host: it implements ike.Transport, ike.Clock and
// ike.Observer, and installs the Child SAs the daemon reports.

// Env is the environment for an IKE daemon running on this node.
func (nd *Node) Env() ike.Env {
	return ike.Env{Transport: nd, Clock: nd, Rand: nd.net.Sim.Rand("ike/" + nd.Name), Observer: nd}
}

// Send puts an IKE message on the wire (ike.Transport). IKE traffic bypasses the SPD.
func (nd *Node) Send(dg ike.Datagram) {
	if nd.down {
		return
	}
	data := dg.Data
	if dg.Local.Port() == PortNATT || dg.Remote.Port() == PortNATT {
		data = append(make([]byte, 4), data...) // RFC 3948 2.2: the non-ESP marker
	}
	pkt := nd.udpPacket(dg.Local, dg.Remote, data)
	meta := &packetMeta{}
	if dg.Info != nil {
		meta.ike = dg.Info
	}
	nd.output(dg.Remote.Addr(), pkt, meta, 0)
}

// Now is the virtual time (ike.Clock).
func (nd *Node) Now() time.Time { return nd.net.Sim.Time() }

type simTimer struct {
	nd   *Node
	name string
	s    *Scheduled
}

// AfterFunc schedules f on the virtual clock and records the timer (ike.Clock).
func (nd *Node) AfterFunc(d time.Duration, name string, f func()) ike.Timer {
	t := &simTimer{nd: nd, name: name}
	due := Seconds(nd.net.Sim.Now() + d)
	nd.emit(&Event{Kind: KindTimer, Timer: name, Op: "start", Due: &due})
	t.s = nd.net.Sim.After(d, func() {
		if nd.down {
			return
		}
		nd.emit(&Event{Kind: KindTimer, Timer: name, Op: "fire"})
		f()
	})
	return t
}

func (t *simTimer) Stop() bool {
	if !t.s.Cancel() {
		return false
	}
	t.nd.emit(&Event{Kind: KindTimer, Timer: t.name, Op: "cancel"})
	return true
}

// State records a state change (ike.Observer).
func (nd *Node) State(machine, from, to string) {
	nd.emit(&Event{Kind: KindState, Machine: machine, FromState: from, ToState: to})
}

// Received attaches the receiver's reading of an IKE message to its recv event.
func (nd *Node) Received(dg ike.Datagram) {
	if r := nd.lastRecv; r != nil && dg.Info != nil {
		r.Exchange = dg.Info.Exchange
		r.Summary = dg.Info.Summary
		r.lazy = dg.Info.Dissect
		id := dg.Info.MessageID
		r.MessageID = &id
		r.Response = dg.Info.Response
	}
}

// Dropped records an IKE message the daemon discarded.
func (nd *Node) Dropped(dg ike.Datagram, reason string) {
	e := &Event{Kind: KindDrop, Ref: nd.curRef, Src: dg.Remote.String(), Dst: dg.Local.String(), Text: reason}
	if dg.Info != nil {
		e.Proto = fmt.Sprintf("ikev%d", dg.Info.Version)
		e.Exchange = dg.Info.Exchange
		e.lazy = dg.Info.Dissect
	}
	nd.emit(e)
}

// Error records a failure.
func (nd *Node) Error(text string) { nd.emit(&Event{Kind: KindError, Text: text}) }

var _ ike.VirtualIPHost = (*Node)(nil)

// AssignVirtualIP takes the inner address Mode Config or CP assigned (ike.VirtualIPHost):
// the node answers to it and sends its own traffic from it.
func (nd *Node) AssignVirtualIP(a netip.Addr) {
	if a.IsValid() {
		nd.Action(fmt.Sprintf("Take virtual IP %s as the inner address: pings from this node now come from it", a))
	} else if nd.VirtualIP.IsValid() {
		nd.Action(fmt.Sprintf("Give back virtual IP %s", nd.VirtualIP))
	}
	nd.VirtualIP = a
}

func coveredBy(ts []ike.TrafficSelector, a netip.Addr) bool {
	for _, t := range ts {
		if a.Compare(t.Start) >= 0 && a.Compare(t.End) <= 0 {
			return true
		}
	}
	return false
}

func hex64(v uint64) string { return fmt.Sprintf("%016x", v) }

func tsStrings(ts []ike.TrafficSelector) []string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return s
}

func pick(p ike.Proposal, t ike.TransformType) (ike.Transform, bool) {
	for _, x := range p.Transforms {
		if x.Type == t {
			return x, true
		}
	}
	return ike.Transform{}, false
}

// IKESAUp records an IKE SA with its keys (ike.Observer).
func (nd *Node) IKESAUp(sa *ike.IKESAInfo) {
	nd.emit(&Event{Kind: KindSA, Op: "up", SA: ikeRecord(sa), Weak: sa.Proposal.Weak()})
}

// ikeRecord describes an IKE SA with its keys, for the trace and the key tables.
func ikeRecord(sa *ike.IKESAInfo) *SARecord {
	r := &SARecord{Type: "ike", Version: sa.Version, Conn: sa.Conn, Local: sa.Local.String(), Remote: sa.Remote.String(),
		Peer: sa.RemoteID.String(), Initiator: sa.Initiator, Proposal: sa.Proposal.String(),
		SPIi: hex64(sa.SPIi), SPIr: hex64(sa.SPIr), SKei: sa.SKei, SKer: sa.SKer, SKai: sa.SKai, SKar: sa.SKar, EncKey: sa.EncKey}
	if t, ok := pick(sa.Proposal, ike.TransformENCR); ok {
		r.Encr, r.EncrKeyBits = t.ID, t.KeyLen
	}
	if t, ok := pick(sa.Proposal, ike.TransformINTEG); ok {
		r.Integ = t.ID
	}
	return r
}

// IKESADown records the end of an IKE SA (ike.Observer). It keeps the keys: an SA that
// failed in IKE_AUTH (a wrong pre-shared key) had keys all the same, and its messages
// can be decrypted with them.
func (nd *Node) IKESADown(sa *ike.IKESAInfo, reason string) {
	r := ikeRecord(sa)
	r.Reason = reason
	nd.emit(&Event{Kind: KindSA, Op: "down", SA: r})
}

// AcquireFailed drops the packets that waited for a Child SA IKE could not set up
// (ike.AcquireHost); the next matching packet starts a new attempt.
func (nd *Node) AcquireFailed(reqid uint32, reason string) {
	q := nd.acquired[reqid]
	delete(nd.acquired, reqid)
	for _, p := range q {
		nd.drop(p.pkt, 0, "no IPsec SA: "+reason)
	}
}

var _ ike.AcquireHost = (*Node)(nil)

// ChildSAUp installs a Child SA pair and its policies, and sends what waited for it.
func (nd *Node) ChildSAUp(c *ike.ChildSAInfo) {
	in, out, err := nd.makeSAs(c)
	if err != nil {
		nd.Error(fmt.Sprintf("cannot install Child SA %s: %v", c.Child, err))
		return
	}
	switch {
	case c.Rekeyed != 0 && c.KeepOldOutbound:
		nd.Action(fmt.Sprintf("Rekeyed by the peer: accept on the new SA at once, but go on sending on the old one until the peer deletes it (new outbound SPI 0x%08x waits)", c.SPIOut))
	case c.Rekeyed != 0:
		// The old inbound SA stays until the delete; outbound traffic moves to the new SA now.
		nd.Action(fmt.Sprintf("Rekeyed: new outbound SA 0x%08x replaces the SA with inbound SPI 0x%08x", c.SPIOut, c.Rekeyed))
	}
	if err := nd.SAD.AddInbound(in); err != nil {
		nd.Error(fmt.Sprintf("cannot install Child SA %s: %v", c.Child, err))
		return
	}
	if c.Rekeyed != 0 && c.KeepOldOutbound {
		if nd.waitingOut == nil {
			nd.waitingOut = map[uint32]*ipsec.SA{}
		}
		nd.waitingOut[c.Rekeyed] = out
	} else if err := nd.SAD.AddOutbound(out); err != nil {
		nd.SAD.DeleteInbound(in.SPI)
		nd.Error(fmt.Sprintf("cannot install Child SA %s: %v", c.Child, err))
		return
	}
	nd.installPolicies(c.ReqID, c.Conn+"/"+c.Child, c.LocalTS, c.RemoteTS)
	mode := "tunnel"
	if c.Transport {
		mode = "transport"
	}
	r := &SARecord{Type: "child", Conn: c.Conn, Child: c.Child, Local: c.Local.String(), Remote: c.Remote.String(),
		Proposal: c.Proposal.String(), Mode: mode, Encap: c.Encap,
		SPIIn: fmt.Sprintf("%08x", c.SPIIn), SPIOut: fmt.Sprintf("%08x", c.SPIOut),
		EncrKeyIn: c.EncrKeyIn, IntegKeyIn: c.IntegKeyIn, EncrKeyOut: c.EncrKeyOut, IntegKeyOut: c.IntegKeyOut,
		LocalTS: tsStrings(c.LocalTS), RemoteTS: tsStrings(c.RemoteTS), LifeTime: Seconds(c.LifeTime)}
	if t, ok := pick(c.Proposal, ike.TransformENCR); ok {
		r.Encr, r.EncrKeyBits = t.ID, t.KeyLen
	}
	if t, ok := pick(c.Proposal, ike.TransformINTEG); ok {
		r.Integ = t.ID
	}
	nd.emit(&Event{Kind: KindSA, Op: "up", SA: r, Weak: c.Proposal.Weak()})
	q := nd.acquired[c.ReqID]
	delete(nd.acquired, c.ReqID)
	if len(q) > 0 {
		nd.Action(fmt.Sprintf("Send the %d packet(s) that waited for this SA", len(q)))
	}
	for _, p := range q {
		if f, err := ipsec.FlowOf(p.pkt); err == nil && !coveredBy(c.LocalTS, f.Src) {
			nd.drop(p.pkt, 0, fmt.Sprintf("queued packet from %s is outside the Child SA's selectors %s (the virtual IP replaces that address)",
				f.Src, strings.Join(tsStrings(c.LocalTS), ",")))
			continue
		}
		nd.SendIP(p.pkt, p.meta)
	}
}

// ChildSADown removes a Child SA pair (ike.Observer).
func (nd *Node) ChildSADown(c *ike.ChildSAInfo, reason string) {
	nd.SAD.DeleteInbound(c.SPIIn)
	nd.SAD.DeleteOutbound(c.SPIOut)
	if out := nd.waitingOut[c.SPIIn]; out != nil {
		delete(nd.waitingOut, c.SPIIn)
		if err := nd.SAD.AddOutbound(out); err != nil {
			nd.Error(fmt.Sprintf("cannot switch to the new outbound SA 0x%08x: %v", out.SPI, err))
		} else {
			nd.Action(fmt.Sprintf("The old SA is gone: send on the new outbound SA 0x%08x from now on", out.SPI))
		}
	}
	nd.emit(&Event{Kind: KindSA, Op: "down", SA: &SARecord{Type: "child", Conn: c.Conn, Child: c.Child,
		SPIIn: fmt.Sprintf("%08x", c.SPIIn), SPIOut: fmt.Sprintf("%08x", c.SPIOut), Reason: reason}})
}

func (nd *Node) makeSAs(c *ike.ChildSAInfo) (in, out *ipsec.SA, err error) {
	et, ok := pick(c.Proposal, ike.TransformENCR)
	if !ok {
		return nil, nil, fmt.Errorf("no encryption transform")
	}
	encr := ike.Encr(et.ID)
	if encr == nil {
		return nil, nil, fmt.Errorf("unknown encryption transform %d", et.ID)
	}
	var integ *ike.IntegAlg
	if it, ok := pick(c.Proposal, ike.TransformINTEG); ok && it.ID != 0 {
		if integ = ike.Integ(it.ID); integ == nil {
			return nil, nil, fmt.Errorf("unknown integrity transform %d", it.ID)
		}
	}
	esn := false
	if t, ok := pick(c.Proposal, ike.TransformESN); ok {
		esn = t.ID == 1
	}
	mode := ipsec.Tunnel
	if c.Transport {
		mode = ipsec.Transport
	}
	mk := func(spi uint32, src, dst netip.AddrPort, ek, ik []byte) *ipsec.SA {
		sa := &ipsec.SA{SPI: spi, Src: src.Addr(), Dst: dst.Addr(), Reqid: c.ReqID, Encr: encr, EncrKeyBits: et.KeyLen,
			EncrKey: ek, Integ: integ, IntegKey: ik, Mode: mode, ESN: esn, Rand: nd.rand, Created: nd.net.Sim.Time(),
			NextID: func() uint16 { nd.ipID++; return nd.ipID }}
		if c.Encap {
			sa.Encap = &ipsec.UDPEncap{SrcPort: src.Port(), DstPort: dst.Port()}
		}
		return sa
	}
	in = mk(c.SPIIn, c.Remote, c.Local, c.EncrKeyIn, c.IntegKeyIn)
	out = mk(c.SPIOut, c.Local, c.Remote, c.EncrKeyOut, c.IntegKeyOut)
	return in, out, nil
}

// installPolicies adds protect policies for traffic from localTS to remoteTS (out) and
// back (in), unless they are there already.
func (nd *Node) installPolicies(reqid uint32, name string, local, remote []ike.TrafficSelector) {
	for _, l := range local {
		for _, r := range remote {
			nd.addPolicy(name, ipsec.Out, l, r, reqid)
			nd.addPolicy(name, ipsec.In, r, l, reqid)
		}
	}
}

// InstallTraps asks the daemon for its trap policies and installs them.
func (nd *Node) InstallTraps() {
	if nd.IKE == nil {
		return
	}
	for _, t := range nd.IKE.Traps() {
		nd.installPolicies(t.ReqID, t.Conn+"/"+t.Child, t.LocalTS, t.RemoteTS)
	}
}

// SendKeepalive sends an RFC 3948 NAT-keepalive from local to remote.
func (nd *Node) SendKeepalive(local, remote netip.AddrPort) {
	if nd.down {
		return
	}
	nd.output(remote.Addr(), nd.udpPacket(local, remote, []byte{0xff}), nil, 0)
}

func (nd *Node) udpPacket(src, dst netip.AddrPort, payload []byte) []byte {
	nd.ipID++
	pkt, err := ipsec.NewUDPPacket(src, dst, nd.ipID, payload)
	if err != nil {
		nd.Error("cannot build UDP datagram: " + err.Error())
	}
	return pkt
}

// addPolicy adds a protect policy for traffic from src to dst unless an equal one exists.
func (nd *Node) addPolicy(name string, dir ipsec.Direction, src, dst ike.TrafficSelector, reqid uint32) {
	sel := ipsec.Selector{Src: ipsec.AddrRange{First: src.Start, Last: src.End}, Dst: ipsec.AddrRange{First: dst.Start, Last: dst.End},
		Proto: src.Proto, SrcPort: ipsec.PortRange{First: src.StartPort, Last: src.EndPort},
		DstPort: ipsec.PortRange{First: dst.StartPort, Last: dst.EndPort}}
	for _, p := range nd.SPD.Policies() {
		if p.Direction == dir && p.Selector == sel && p.Reqid == reqid {
			return
		}
	}
	nd.SPD.Add(&ipsec.Policy{Name: name, Priority: ipsec.DefaultPriority(sel), Direction: dir, Selector: sel,
		Action: ipsec.ActionProtect, Reqid: reqid})
}
