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

// cpRequest is the initiator's request for an IPv4 address and a DNS server, or with v6
// an IPv6 address and DNS server (RFC 7296, Section 3.15.1).
func cpRequest(v6 bool) *CP {
	if v6 {
		return &CP{Type: CFG_REQUEST, Attributes: []CfgAttribute{{Type: INTERNAL_IP6_ADDRESS}, {Type: INTERNAL_IP6_DNS}}}
	}
	return &CP{Type: CFG_REQUEST, Attributes: []CfgAttribute{{Type: INTERNAL_IP4_ADDRESS}, {Type: INTERNAL_IP4_DNS}}}
}

// lease gives the peer of sa an address from the connection's pools of one family: the
// lowest free one, so that runs are reproducible.
func (d *Daemon) lease(sa *ikeSA, v6 bool) (netip.Addr, bool) {
	if d.leases == nil {
		d.leases = map[netip.Addr]*ikeSA{}
	}
	for _, p := range sa.conn.Pools {
		if p.Addr().Is6() != v6 {
			continue
		}
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
	// The family the client asks for: IPv6 when it asks for an IPv6 address alone.
	v4, v6 := false, false
	for _, a := range req.Attributes {
		v4 = v4 || a.Type == INTERNAL_IP4_ADDRESS
		v6 = v6 || a.Type == INTERNAL_IP6_ADDRESS
	}
	v6 = v6 && !v4
	addr, ok := d.lease(sa, v6)
	if !ok {
		d.failure(sa, "", INTERNAL_ADDRESS_FAILURE, ike.FailRefused, "%s: INTERNAL_ADDRESS_FAILURE: no pool has a free address", sa.name())
		return &Notify{Type: INTERNAL_ADDRESS_FAILURE}
	}
	sa.peerVIP = addr
	reply := &CP{Type: CFG_REPLY, Attributes: []CfgAttribute{{Type: INTERNAL_IP4_ADDRESS, Value: addr.AsSlice()}}}
	if v6 {
		// RFC 7296, Section 3.15.1: the address, then a prefix length; one address
		// is leased, so /128, as strongSwan sends.
		reply.Attributes[0] = CfgAttribute{Type: INTERNAL_IP6_ADDRESS, Value: append(addr.AsSlice(), 128)}
	}
	for _, dns := range sa.conn.DNS {
		switch {
		case dns.Is4() && !v6:
			reply.Attributes = append(reply.Attributes, CfgAttribute{Type: INTERNAL_IP4_DNS, Value: dns.AsSlice()})
		case dns.Is6() && v6:
			reply.Attributes = append(reply.Attributes, CfgAttribute{Type: INTERNAL_IP6_DNS, Value: dns.AsSlice()})
		}
	}
	d.action("Lease virtual IP %s from the pool to the peer: CP(CFG_REPLY) carries it; the Child SA's TSi will be narrowed to it", addr)
	return reply
}

// takeCP reads a CP(CFG_REPLY) on the initiator and gives the address to the host.
func (sa *ikeSA) takeCP(inner []Payload) {
	cp := payloadOf[*CP](inner)
	if cp == nil || cp.Type != CFG_REPLY {
		if sa.conn.RequestVIP || sa.conn.RequestVIP6 {
			sa.d.failure(sa, "", 0, ike.FailMalformed, "%s: asked for a virtual IP but the responder assigned none", sa.name())
		}
		return
	}
	for _, a := range cp.Attributes {
		var value []byte
		switch {
		case a.Type == INTERNAL_IP4_ADDRESS && len(a.Value) == 4:
			value = a.Value
		case a.Type == INTERNAL_IP6_ADDRESS && len(a.Value) == 17: // RFC 7296, Section 3.15.1: address and prefix length
			value = a.Value[:16]
		}
		if value != nil {
			addr, _ := netip.AddrFromSlice(value)
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
	return narrowAll(tsi, []ike.TrafficSelector{ike.TSFromPrefix(netip.PrefixFrom(sa.peerVIP, sa.peerVIP.BitLen()))})
}
