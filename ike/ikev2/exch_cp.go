package ikev2

import (
	"net/netip"

	"github.com/ikesim/ikesim/ike"
)

// Configuration payloads (RFC 7296 2.19): a road warrior asks for an inner address in
// IKE_AUTH with CP(CFG_REQUEST); the gateway leases one from its pool and answers with
// CP(CFG_REPLY), and narrows the Child SA's TSi to that address.
//
//	HDR, SK {IDi, [IDr,] AUTH, CP(CFG_REQUEST), SAi2, TSi, TSr}  -->
//	                          <--  HDR, SK {IDr, AUTH, CP(CFG_REPLY), SAr2, TSi, TSr}

// cpRequest is the initiator's request for an IPv4 address and a DNS server.
func cpRequest() *CP {
	return &CP{Type: CFG_REQUEST, Attributes: []CfgAttribute{{Type: INTERNAL_IP4_ADDRESS}, {Type: INTERNAL_IP4_DNS}}}
}

// lease gives the peer of sa an address from the connection's pools: the lowest free
// one, so that runs are reproducible.
func (d *Daemon) lease(sa *ikeSA) (netip.Addr, bool) {
	if d.leases == nil {
		d.leases = map[netip.Addr]*ikeSA{}
	}
	for _, p := range sa.conn.Pools {
		p = p.Masked()
		for a := p.Addr().Next(); p.Contains(a); a = a.Next() {
			if !p.Contains(a.Next()) && p.Bits() < 31 {
				break // the broadcast address
			}
			if owner := d.leases[a]; owner == nil || owner.state == stateDestroyed {
				d.leases[a] = sa
				return a, true
			}
		}
	}
	return netip.Addr{}, false
}

// answerCP handles a CP(CFG_REQUEST) in IKE_AUTH: the reply, or the notify that says no
// address can be had.
func (sa *ikeSA) answerCP(req *CP) Payload {
	d := sa.d
	if req.Type != CFG_REQUEST {
		return nil
	}
	addr, ok := d.lease(sa)
	if !ok {
		d.failure(sa, "", INTERNAL_ADDRESS_FAILURE, ike.FailRefused, "%s: INTERNAL_ADDRESS_FAILURE: no pool has a free address", sa.name())
		return &Notify{Type: INTERNAL_ADDRESS_FAILURE}
	}
	sa.peerVIP = addr
	reply := &CP{Type: CFG_REPLY, Attributes: []CfgAttribute{{Type: INTERNAL_IP4_ADDRESS, Value: addr.AsSlice()}}}
	for _, dns := range sa.conn.DNS {
		if dns.Is4() {
			reply.Attributes = append(reply.Attributes, CfgAttribute{Type: INTERNAL_IP4_DNS, Value: dns.AsSlice()})
		}
	}
	d.action("Lease virtual IP %s from the pool to the peer: CP(CFG_REPLY) carries it; the Child SA's TSi will be narrowed to it", addr)
	return reply
}

// takeCP reads a CP(CFG_REPLY) on the initiator and gives the address to the host.
func (sa *ikeSA) takeCP(inner []Payload) {
	cp := payloadOf[*CP](inner)
	if cp == nil || cp.Type != CFG_REPLY {
		if sa.conn.RequestVIP {
			sa.d.failure(sa, "", 0, ike.FailMalformed, "%s: asked for a virtual IP but the responder assigned none", sa.name())
		}
		return
	}
	for _, a := range cp.Attributes {
		if a.Type == INTERNAL_IP4_ADDRESS && len(a.Value) == 4 {
			addr, _ := netip.AddrFromSlice(a.Value)
			sa.ownVIP = addr
			sa.d.action("Take virtual IP %s, assigned by the responder: traffic into the tunnel comes from it", addr)
			if h, ok := sa.d.env.Observer.(ike.VirtualIPHost); ok {
				h.AssignVirtualIP(addr)
			}
		}
	}
}

// releaseVIP gives a leased or assigned address back when the IKE SA ends.
func (sa *ikeSA) releaseVIP() {
	if sa.peerVIP.IsValid() && sa.d.leases[sa.peerVIP] == sa {
		delete(sa.d.leases, sa.peerVIP)
	}
	if sa.ownVIP.IsValid() && sa.rekeyed == nil {
		if h, ok := sa.d.env.Observer.(ike.VirtualIPHost); ok {
			h.AssignVirtualIP(netip.Addr{})
		}
	}
}

// vipTS narrows the initiator's selectors to its virtual IP, when it has one.
func (sa *ikeSA) vipTS(tsi []ike.TrafficSelector) []ike.TrafficSelector {
	if !sa.peerVIP.IsValid() {
		return tsi
	}
	return narrowAll(tsi, []ike.TrafficSelector{ike.TSFromPrefix(netip.PrefixFrom(sa.peerVIP, 32))})
}
