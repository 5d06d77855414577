package sim

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// The node is the IKE daemon's host: it implements ike.Transport, ike.Clock and
// ike.Observer, and installs the Child SAs the daemon reports.

// Env is the environment for an IKE daemon running on this node. A daemon made after a
// restart draws from a stream of its own: a rebooted node does not pick the SPIs and
// nonces of its first life again.
func (nd *Node) Env() ike.Env {
	stream := "ike/" + nd.Name
	if nd.boots > 0 {
		stream = fmt.Sprintf("%s/boot%d", stream, nd.boots)
	}
	return ike.Env{Transport: nd, Clock: nd, Rand: nd.net.Sim.Rand(stream), Observer: nd}
}

// Send puts an IKE message on the wire (ike.Transport). IKE traffic bypasses the SPD.
func (nd *Node) Send(dg ike.Datagram) {
	if nd.down {
		return
	}
	data := dg.Data
	if dg.Local.Port() == ike.PortNATT || dg.Remote.Port() == ike.PortNATT {
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
	due := trace.Seconds(nd.net.Sim.Now() + d)
	nd.Timer(trace.OpStart, name, &due)
	t.s = nd.net.Sim.After(d, func() {
		if nd.down {
			return
		}
		nd.Timer(trace.OpFire, name, nil)
		f()
	})
	return t
}

func (t *simTimer) Stop() bool {
	if !t.s.Cancel() {
		return false
	}
	t.nd.Timer(trace.OpCancel, t.name, nil)
	return true
}

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

// AcquireFailed drops the packets that waited for a Child SA IKE could not set up
// (ike.AcquireHost); the next matching packet starts a new attempt.
func (nd *Node) AcquireFailed(reqid uint32, reason string) {
	q := nd.acquired[reqid]
	delete(nd.acquired, reqid)
	for _, p := range q {
		nd.drop(p.pkt, 0, trace.DropNoSA, "no IPsec SA: "+reason)
	}
}

var _ ike.AcquireHost = (*Node)(nil)

// ChildSAUp installs a Child SA pair and its policies, and sends what waited for it.
func (nd *Node) ChildSAUp(c *ike.ChildSAInfo) {
	in, out, err := NewChildSAs(c, nd.rand, nd.net.Sim.Time(), func() uint16 { nd.ipID++; return nd.ipID })
	if err != nil {
		nd.Errorf("cannot install Child SA %s: %v", c.Child, err)
		return
	}
	switch {
	case c.NoOutbound:
		nd.Action(fmt.Sprintf("This new SA lost a rekey collision and is deleted at once: install its inbound SA 0x%08x only, send nothing on it", c.SPIIn))
	case c.Rekeyed != 0 && c.KeepOldOutbound:
		nd.Action(fmt.Sprintf("Rekeyed by the peer: accept on the new SA at once, but go on sending on the old one until the peer deletes it (new outbound SPI 0x%08x waits)", c.SPIOut))
	case c.Rekeyed != 0:
		// The old inbound SA stays until the delete; outbound traffic moves to the new SA now.
		nd.Action(fmt.Sprintf("Rekeyed: new outbound SA 0x%08x replaces the SA with inbound SPI 0x%08x", c.SPIOut, c.Rekeyed))
	}
	if err := nd.SAD.AddInbound(in); err != nil {
		nd.Errorf("cannot install Child SA %s: %v", c.Child, err)
		return
	}
	if c.Rekeyed != 0 && !c.KeepOldOutbound && !c.NoOutbound {
		// This side's own rekey won: an SA the peer's colliding rekey made for the same
		// old SA is never sent on.
		delete(nd.waitingOut, c.Rekeyed)
	}
	switch {
	case c.NoOutbound:
	case c.Rekeyed != 0 && c.KeepOldOutbound:
		if nd.waitingOut == nil {
			nd.waitingOut = map[uint32]*ipsec.SA{}
		}
		nd.waitingOut[c.Rekeyed] = out
	default:
		if err := nd.SAD.AddOutbound(out); err != nil {
			nd.SAD.DeleteInbound(in.SPI)
			nd.Errorf("cannot install Child SA %s: %v", c.Child, err)
			return
		}
	}
	nd.trackChild(c, in, out)
	added := InstallPolicies(nd.SPD, c.ReqID, c.Conn+"/"+c.Child, c.LocalTS, c.RemoteTS)
	nd.ChildSA(trace.OpUp, c, "", added)
	if c.Bundle {
		return // what waits goes once the bundle's ESP SAs, reported next, are up
	}
	q := nd.acquired[c.ReqID]
	delete(nd.acquired, c.ReqID)
	if len(q) > 0 {
		nd.Action(fmt.Sprintf("Send the %d packet(s) that waited for this SA", len(q)))
	}
	for _, p := range q {
		if f, err := ipsec.FlowOf(p.pkt); err == nil && !coveredBy(c.LocalTS, f.Src) {
			nd.drop(p.pkt, 0, trace.DropSelectors, fmt.Sprintf("queued packet from %s is outside the Child SA's selectors %s (the virtual IP replaces that address)",
				f.Src, strings.Join(trace.Selectors(c.LocalTS), ",")))
			continue
		}
		nd.SendIP(p.pkt, p.meta)
	}
}

// ChildSADown removes a Child SA pair (ike.Observer).
func (nd *Node) ChildSADown(c *ike.ChildSAInfo, reason string) {
	nd.SAD.DeleteInbound(c.SPIIn)
	nd.SAD.DeleteOutbound(c.SPIOut)
	for old, out := range nd.waitingOut {
		if out.SPI == c.SPIOut { // it goes before the SA it waited for
			delete(nd.waitingOut, old)
		}
	}
	if out := nd.waitingOut[c.SPIIn]; out != nil {
		delete(nd.waitingOut, c.SPIIn)
		if err := nd.SAD.AddOutbound(out); err != nil {
			nd.Errorf("cannot switch to the new outbound SA 0x%08x: %v", out.SPI, err)
		} else {
			nd.Action(fmt.Sprintf("The old SA is gone: send on the new outbound SA 0x%08x from now on", out.SPI))
		}
	}
	nd.untrackChild(c)
	nd.ChildSA(trace.OpDown, c, reason, nil)
}

// InstallTraps asks the daemon for its trap policies and installs them.
func (nd *Node) InstallTraps() {
	if nd.IKE == nil {
		return
	}
	for _, t := range nd.IKE.Traps() {
		local := t.LocalTS
		if len(local) == 0 {
			// local_ts dynamic: the node's own addresses, as strongSwan's trap policy
			// takes the local address for it.
			for _, i := range nd.Ifaces {
				local = append(local, ike.TSFromPrefix(netip.PrefixFrom(i.Addr(), 32)))
			}
		}
		InstallPolicies(nd.SPD, t.ReqID, t.Conn+"/"+t.Child, local, t.RemoteTS)
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
		nd.Errorf("cannot build UDP datagram: %v", err)
	}
	return pkt
}
