package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// The inferred topology: each gateway on the addresses its configuration names, joined
// by a router (or by one link, when the two gateways of a pair share a subnet), with a
// host behind each subnet a child protects. Traffic leaves from a host, or from the
// gateway itself when the subnet is one of its own addresses (a router's loopback).

type topoNode struct {
	name, kind string
	prefixes   []netip.Prefix
	comment    string
}

type topology struct {
	nodes []*topoNode
	links [][2]string
	notes []Note
	// hosts maps a gateway's protected prefix ("gw-a 10.1.0.0/24") to the host behind
	// it; endpoints lists every place traffic can start or end.
	endpoints []endpoint
}

// endpoint is where traffic can start or end: a host, or a gateway with one of its own
// addresses.
type endpoint struct {
	node    string // the node that sends or answers
	gateway string // the gateway it is behind (itself for a gateway)
	addr    netip.Addr
	source  bool // a gateway's own address that is not the one its packets leave from: ping needs source
}

func (t *topology) node(name string) *topoNode {
	for _, n := range t.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

func (t *topology) used(a netip.Addr) bool {
	for _, n := range t.nodes {
		for _, p := range n.prefixes {
			if p.Addr() == a {
				return true
			}
		}
	}
	return false
}

func addOffset(a netip.Addr, off uint64) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(off)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// outside is the prefix a gateway reaches the others on: the interface with the crypto
// map, the interface of its IKE address, or its IKE address in a /24 (swanctl.conf names
// no prefix length).
func outside(n *Node) (netip.Prefix, bool) {
	for _, i := range n.Ifaces {
		if i.Outside {
			return i.Prefix, true
		}
	}
	ike := n.IKEAddr()
	for _, i := range n.Ifaces {
		if i.Prefix.Addr() == ike && !i.Loopback {
			return i.Prefix, true
		}
	}
	if !ike.IsValid() {
		return netip.Prefix{}, false
	}
	p, _ := ike.Prefix(24)
	return netip.PrefixFrom(ike, p.Bits()), false
}

// inferTopology places the gateways and their hosts.
func inferTopology(nodes []*Node) *topology {
	t := &topology{}
	outs := map[string]netip.Prefix{}
	for _, n := range nodes {
		tn := &topoNode{name: n.Name, kind: "gateway", comment: fmt.Sprintf("%s (%s)", n.File, n.Format)}
		for _, i := range n.Ifaces {
			tn.prefixes = append(tn.prefixes, i.Prefix)
		}
		out, named := outside(n)
		if out.IsValid() && !named && !slices.ContainsFunc(tn.prefixes, func(p netip.Prefix) bool { return p.Addr() == out.Addr() }) {
			tn.prefixes = append(tn.prefixes, out)
			if n.Format == "swanctl.conf" || len(n.Ifaces) == 0 {
				tn.comment += fmt.Sprintf("; %s/%d: the configuration names no prefix length", out.Addr(), out.Bits())
			}
		}
		// Local addresses of other connections that no interface holds.
		for _, a := range n.Addrs() {
			if !slices.ContainsFunc(tn.prefixes, func(p netip.Prefix) bool { return p.Addr() == a }) {
				tn.prefixes = append(tn.prefixes, netip.PrefixFrom(a, 32))
			}
		}
		outs[n.Name] = out
		t.nodes = append(t.nodes, tn)
	}
	t.link(nodes, outs)
	t.hosts(nodes)
	t.order(nodes)
	return t
}

// order puts the nodes in the order of the diagram's lanes: the first gateway's hosts,
// the gateway, the router, then each other gateway followed by its hosts.
func (t *topology) order(nodes []*Node) {
	behind := map[string][]*topoNode{}
	var router *topoNode
	for _, tn := range t.nodes {
		switch tn.kind {
		case "host":
			for _, l := range t.links {
				if l[0] == tn.name {
					behind[l[1]] = append(behind[l[1]], tn)
				}
			}
		case "router":
			router = tn
		}
	}
	var out []*topoNode
	for i, n := range nodes {
		gw := t.node(n.Name)
		if i == 0 {
			out = append(append(out, behind[n.Name]...), gw)
			if router != nil {
				out = append(out, router)
			}
			continue
		}
		out = append(append(out, gw), behind[n.Name]...)
	}
	if len(out) == len(t.nodes) {
		t.nodes = out
	}
}

// link joins the gateways: directly when there are two on one subnet, else through a
// router with an address in each gateway's outside subnet.
func (t *topology) link(nodes []*Node, outs map[string]netip.Prefix) {
	if len(nodes) == 2 {
		a, b := outs[nodes[0].Name], outs[nodes[1].Name]
		if a.IsValid() && b.IsValid() && a.Masked() == b.Masked() {
			t.links = append(t.links, [2]string{nodes[0].Name, nodes[1].Name})
			return
		}
	}
	if len(nodes) < 2 {
		return
	}
	r := &topoNode{name: uniqueName(t, "router"), kind: "router", comment: "joins the gateways (inferred)"}
	t.nodes = append(t.nodes, r)
	for _, n := range nodes {
		out := outs[n.Name]
		if !out.IsValid() {
			continue
		}
		if out.Bits() >= 31 {
			t.notes = append(t.notes, Note{Node: n.Name, Msg: fmt.Sprintf("its outside address %s leaves no room for the router: it stays unlinked", out)})
			continue
		}
		a, ok := t.gatewayAddr(out, out)
		if !ok {
			continue
		}
		if slices.ContainsFunc(r.prefixes, func(p netip.Prefix) bool { return p.Masked() == out.Masked() }) {
			t.notes = append(t.notes, Note{Node: n.Name, Msg: fmt.Sprintf("it shares subnet %s with another gateway; the router reaches it on a second interface in that subnet, which the simulator routes to the first", out.Masked())})
		}
		r.prefixes = append(r.prefixes, netip.PrefixFrom(a, out.Bits()))
		t.links = append(t.links, [2]string{n.Name, r.name})
	}
}

func uniqueName(t *topology, name string) string {
	for i := 2; t.node(name) != nil; i++ {
		name = fmt.Sprintf("%s-%d", strings.TrimSuffix(name, fmt.Sprintf("-%d", i-1)), i)
	}
	return name
}

// hosts puts a host behind every subnet a gateway's children protect, unless the
// gateway itself holds an address there.
func (t *topology) hosts(nodes []*Node) {
	for _, n := range nodes {
		tn := t.node(n.Name)
		own := n.Addrs()
		for _, a := range own {
			t.endpoints = append(t.endpoints, endpoint{node: n.Name, gateway: n.Name, addr: a, source: !isOutsideAddr(n, a)})
		}
		var seen []netip.Prefix
		for _, cn := range n.ConnOrder {
			c := n.Conns[cn]
			for _, chn := range ChildNames(c) {
				for _, s := range c.Children[chn].LocalTS {
					p, ok := tsPrefix(s)
					if !ok || p.Bits() == 0 || slices.Contains(seen, p) {
						continue
					}
					seen = append(seen, p)
					if slices.ContainsFunc(own, p.Contains) && !t.lanOf(tn, p).IsValid() {
						continue // the gateway's own address (a loopback): traffic starts there
					}
					if t.endpointIn(n.Name, p) {
						continue
					}
					t.addHost(tn, uniqueName(t, "host-"+n.Name), p, n.At(cn+".children."+chn+".local_ts"))
				}
			}
		}
	}
}

func isOutsideAddr(n *Node, a netip.Addr) bool {
	out, _ := outside(n)
	return out.Addr() == a
}

// lanOf is the gateway's interface prefix that holds p (an inside LAN), or none.
func (t *topology) lanOf(tn *topoNode, p netip.Prefix) netip.Prefix {
	for _, q := range tn.prefixes {
		if q.Bits() < 32 && q.Masked().Contains(p.Addr()) && q.Bits() <= p.Bits() {
			return q
		}
	}
	return netip.Prefix{}
}

func (t *topology) endpointIn(gw string, p netip.Prefix) bool {
	for _, e := range t.endpoints {
		if e.gateway == gw && e.node != gw && p.Contains(e.addr) {
			return true
		}
	}
	return false
}

// addHost puts a host in p behind gateway tn: on the gateway's inside interface when it
// has one there, else on a new LAN (p itself, or the /24 around a narrower p).
func (t *topology) addHost(tn *topoNode, name string, p netip.Prefix, pos Pos) {
	lan := t.lanOf(tn, p)
	if !lan.IsValid() {
		bits := p.Bits()
		if bits > 24 {
			bits = 24
		}
		lan = netip.PrefixFrom(p.Addr(), bits)
		gw, ok := t.gatewayAddr(lan, p)
		if !ok {
			return
		}
		tn.prefixes = append(tn.prefixes, netip.PrefixFrom(gw, bits))
		lan = netip.PrefixFrom(gw, bits)
	}
	h, ok := t.hostAddr(p)
	if !ok {
		return
	}
	comment := "behind " + tn.name
	if !pos.IsZero() {
		comment += ", in " + p.String() + " (" + pos.String() + ")"
	}
	t.nodes = append(t.nodes, &topoNode{name: name, kind: "host", prefixes: []netip.Prefix{netip.PrefixFrom(h, lan.Bits())}, comment: comment})
	t.links = append(t.links, [2]string{name, tn.name})
	t.endpoints = append(t.endpoints, endpoint{node: name, gateway: tn.name, addr: h})
}

// gatewayAddr picks the gateway's address on a LAN: .1, .254, then the first free one,
// outside p when p is narrower than the LAN (a host's own address).
func (t *topology) gatewayAddr(lan, p netip.Prefix) (netip.Addr, bool) {
	base, size := lan.Masked().Addr(), uint64(1)<<(32-lan.Bits())
	cands := []uint64{1, size - 2}
	for off := uint64(2); off+2 < size && off < 4096; off++ {
		cands = append(cands, off)
	}
	for _, off := range cands {
		a := addOffset(base, off)
		if off == 0 || off+1 >= size || t.used(a) || p.Bits() > lan.Bits() && p.Contains(a) {
			continue
		}
		return a, true
	}
	return netip.Addr{}, false
}

// hostAddr picks a host's address in p: p's own address when p is one address, else
// .10, then the first free one.
func (t *topology) hostAddr(p netip.Prefix) (netip.Addr, bool) {
	if p.Bits() == 32 {
		return p.Addr(), !t.used(p.Addr())
	}
	base, size := p.Masked().Addr(), uint64(1)<<(32-p.Bits())
	cands := []uint64{10}
	for off := uint64(1); off+1 < size && off < 4096; off++ {
		cands = append(cands, off)
	}
	for _, off := range cands {
		if a := addOffset(base, off); off+1 < size && !t.used(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// tsPrefix reads a traffic selector of the scenario: a prefix or an address.
func tsPrefix(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is4() {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		return netip.PrefixFrom(a, 32), true
	}
	return netip.Prefix{}, false
}
