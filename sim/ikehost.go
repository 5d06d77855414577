package sim

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// The node is the IKE daemon's host: it implements ike.Transport, ike.Clock and
// ike.Observer, and its Stack installs the Child SAs the daemon reports.

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
	meta := &PacketMeta{}
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

var _ StackHost = (*Node)(nil)

// Later runs f after d on the virtual clock, unless the node is down by then
// (StackHost).
func (nd *Node) Later(d time.Duration, f func()) {
	nd.net.Sim.After(d, func() {
		if !nd.down {
			f()
		}
	})
}

// Bypass routes a packet no protect policy covers, in clear (StackHost).
func (nd *Node) Bypass(ip *ipsec.IPv4, pkt []byte, meta *PacketMeta, ref int) {
	nd.output(ip.Dst, pkt, meta, ref)
}

// SendProtected routes a packet an SA made, a new packet from this node (StackHost).
func (nd *Node) SendProtected(out []byte, sa *ipsec.SA, summary string) {
	nd.output(sa.Dst, out, &PacketMeta{sa: sa, summary: summary}, 0)
}

// PrepareChildSAs leaves a Child SA's IPsec SAs as they are: the node sends ESP in UDP
// itself (StackHost).
func (nd *Node) PrepareChildSAs(*ike.ChildSAInfo, *ipsec.SA, *ipsec.SA) {}

// SourceFor is the source of a packet the node makes for dst (StackHost): its virtual
// IP, else the address of the interface toward dst.
func (nd *Node) SourceFor(dst netip.Addr) netip.Addr {
	if nd.VirtualIP.IsValid() && nd.VirtualIP.Is6() == dst.Is6() {
		return nd.VirtualIP
	}
	return nd.sourceFor(dst)
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
				for _, p := range i.Prefixes() {
					local = append(local, ike.TSFromPrefix(netip.PrefixFrom(p.Addr(), p.Addr().BitLen())))
				}
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
	pkt, err := ipsec.NewUDPPacket(src, dst, nd.NextID(), payload)
	if err != nil {
		nd.Errorf("cannot build UDP datagram: %v", err)
	}
	return pkt
}
