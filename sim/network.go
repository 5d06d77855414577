package sim

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ikesim/ikesim/sim/trace"
)

// NodeKind is what a node does with packets that are not for itself.
type NodeKind string

const (
	KindHost    NodeKind = "host"    // delivers its own packets, forwards nothing
	KindGateway NodeKind = "gateway" // forwards, and protects traffic by its SPD
	KindRouter  NodeKind = "router"  // forwards
	KindNAT     NodeKind = "nat"     // forwards from inside to outside, rewriting addresses and ports
)

// Network is the simulated internetwork: nodes joined by links, on one Sim.
type Network struct {
	Sim      *Sim
	Nodes    []*Node
	Links    []*Link
	Segments []*Segment
	byName   map[string]*Node
	// searchMark numbers the route searches (ComputeRoutes).
	searchMark int
	// Faults are message rules checked on every transmission (drop, duplicate, delay,
	// corrupt the Nth message of an exchange).
	Faults []*Fault
	// Pings are every ping run so far, in the order they started.
	Pings []*Ping
	// addrNames are the texts of the addresses and address:port pairs that message
	// events name, each made once: a run names the same few of each node again and again.
	addrNames map[addrName]string
}

// addrName is an address, or an address and port when withPort.
type addrName struct {
	ap       netip.AddrPort
	withPort bool
}

// addrText is a.Addr().String(), or with withPort a.String(); the text is made once
// per network.
func (n *Network) addrText(a netip.AddrPort, withPort bool) string {
	k := addrName{a, withPort}
	if s, ok := n.addrNames[k]; ok {
		return s
	}
	s := a.Addr().String()
	if withPort {
		s = a.String()
	}
	if n.addrNames == nil {
		n.addrNames = map[addrName]string{}
	}
	n.addrNames[k] = s
	return s
}

// NewNetwork makes an empty network on s.
func NewNetwork(s *Sim) *Network {
	return &Network{Sim: s, byName: map[string]*Node{}}
}

// emit stamps an event with the virtual time and records it.
func (n *Network) emit(e *trace.Event) {
	e.T = trace.Seconds(n.Sim.Now())
	n.Sim.Trace.Emit(e)
}

// Node returns the node with that name, or nil.
func (n *Network) Node(name string) *Node { return n.byName[name] }

// AddNode adds a node with the given interface addresses (address/prefix length).
func (n *Network) AddNode(name string, kind NodeKind, addrs ...netip.Prefix) (*Node, error) {
	if name == "" {
		return nil, fmt.Errorf("sim: node without a name")
	}
	if n.byName[name] != nil {
		return nil, fmt.Errorf("sim: node %q defined twice", name)
	}
	nd := &Node{Name: name, Kind: kind, net: n, natMap: map[natKey]*natEntry{}, natRev: map[natKey]*natEntry{}}
	for _, a := range addrs {
		nd.Ifaces = append(nd.Ifaces, &Iface{Node: nd, Prefix: a, Index: len(nd.Ifaces)})
	}
	nd.rand = n.Sim.Rand("node/" + name)
	nd.Recorder = trace.Recorder{Node: name, Emit: n.emit}
	nd.Stack = NewStack(nd, &nd.Recorder, nd.rand)
	n.Nodes = append(n.Nodes, nd)
	n.byName[name] = nd
	return nd, nil
}

// AddAddr makes interface index of the node dual-stack: it gives it p, an address of
// the other family than the one it has. Call it before the interface is linked.
func (nd *Node) AddAddr(index int, p netip.Prefix) error {
	if index < 0 || index >= len(nd.Ifaces) {
		return fmt.Errorf("sim: node %q has no interface %d", nd.Name, index)
	}
	i := nd.Ifaces[index]
	switch {
	case i.Also.IsValid():
		return fmt.Errorf("sim: interface %s of node %q has two addresses already", i.Prefix, nd.Name)
	case p.Addr().Is4() == i.Addr().Is4():
		return fmt.Errorf("sim: interface %s of node %q can take an address of the other family only, not %s", i.Prefix, nd.Name, p)
	}
	i.Also = p
	return nil
}

// LinkParams are a link's impairments.
type LinkParams struct {
	Delay     time.Duration
	Jitter    time.Duration
	Loss      float64 // probability that a datagram is lost
	Duplicate float64 // probability that a datagram arrives twice
	Reorder   float64 // probability that a datagram is held back behind the next ones
	Corrupt   float64 // probability that one byte of a datagram is flipped
	MTU       int     // 0 = 1500
}

// Link is a point-to-point wire between two interfaces.
type Link struct {
	A, B *Iface
	LinkParams
	Down bool
	rand *Rand
	// last is when the latest datagram in each direction arrives, so that datagrams
	// stay in order unless the link reorders them.
	last [2]time.Duration
}

// Name is "a—b" by node names.
func (l *Link) Name() string { return l.A.Node.Name + "—" + l.B.Node.Name }

// Connect joins two nodes with a link. Each end uses the node's first interface that is
// not yet linked, unless addrA/addrB (may be invalid) pick an interface by address.
func (n *Network) Connect(a, b string, addrA, addrB netip.Addr, p LinkParams) (*Link, error) {
	na, nb := n.byName[a], n.byName[b]
	if na == nil {
		return nil, fmt.Errorf("sim: link names unknown node %q", a)
	}
	if nb == nil {
		return nil, fmt.Errorf("sim: link names unknown node %q", b)
	}
	if na == nb {
		return nil, fmt.Errorf("sim: link joins node %q to itself", a)
	}
	ia, ib := sameSubnet(na, nb, addrA, addrB)
	var err error
	if ia == nil {
		if ia, err = na.freeIface(addrA, nb); err != nil {
			return nil, err
		}
	}
	if ib == nil {
		if ib, err = nb.freeIface(addrB, na); err != nil {
			return nil, err
		}
	}
	if p.MTU == 0 {
		p.MTU = 1500
	}
	l := &Link{A: ia, B: ib, LinkParams: p, rand: n.Sim.Rand("link/" + a + "/" + b)}
	ia.Link, ib.Link = l, l
	n.Links = append(n.Links, l)
	return l, nil
}

// Segment is a shared medium, a switched LAN: the interfaces of its members reach each
// other directly, every datagram with the segment's impairments.
type Segment struct {
	Name    string
	Members []*Iface
	LinkParams
	Down   bool
	rand   *Rand
	byAddr map[netip.Addr]*Iface
	table  *routeTable // the routes of members with no other attachment
	mark   int         // the last route search that crossed it
}

// AddSegment makes an empty segment.
func (n *Network) AddSegment(name string, p LinkParams) (*Segment, error) {
	for _, s := range n.Segments {
		if s.Name == name {
			return nil, fmt.Errorf("sim: segment %q defined twice", name)
		}
	}
	if p.MTU == 0 {
		p.MTU = 1500
	}
	s := &Segment{Name: name, LinkParams: p, rand: n.Sim.Rand("segment/" + name), byAddr: map[netip.Addr]*Iface{}}
	n.Segments = append(n.Segments, s)
	return s, nil
}

// Join puts a node on a segment with its first free interface in within (any free
// interface when within is not valid).
func (s *Segment) Join(nd *Node, within netip.Prefix) (*Iface, error) {
	for _, i := range nd.Ifaces {
		if !i.free() || within.IsValid() && !slices.ContainsFunc(i.Prefixes(), func(p netip.Prefix) bool { return within.Contains(p.Addr()) }) {
			continue
		}
		for _, p := range i.Prefixes() {
			if other := s.byAddr[p.Addr()]; other != nil {
				return nil, fmt.Errorf("sim: %s of node %q is node %q's address on segment %s too", p.Addr(), nd.Name, other.Node.Name, s.Name)
			}
		}
		i.Segment = s
		s.Members = append(s.Members, i)
		for _, p := range i.Prefixes() {
			s.byAddr[p.Addr()] = i
		}
		return i, nil
	}
	if within.IsValid() {
		return nil, fmt.Errorf("sim: node %q has no free interface in %s for segment %s", nd.Name, within, s.Name)
	}
	return nil, fmt.Errorf("sim: node %q has no free interface for segment %s (give it one more address)", nd.Name, s.Name)
}

// Link returns the link between two nodes, or nil.
func (n *Network) Link(a, b string) *Link {
	for _, l := range n.Links {
		if (l.A.Node.Name == a && l.B.Node.Name == b) || (l.A.Node.Name == b && l.B.Node.Name == a) {
			return l
		}
	}
	return nil
}

// Iface is one interface of a node: an address with its prefix (two on a dual-stack
// interface, one of each family), and the link or the segment it is on.
type Iface struct {
	Node   *Node
	Index  int
	Prefix netip.Prefix
	// Also is a dual-stack interface's address of the other family (or not valid).
	Also    netip.Prefix
	Link    *Link
	Segment *Segment
	// segLast is when the latest datagram this interface put on its segment arrives,
	// so that its datagrams stay in order unless the segment reorders them.
	segLast time.Duration
}

// free reports whether the interface is on no link and no segment.
func (i *Iface) free() bool { return i.Link == nil && i.Segment == nil }

// attached reports whether the interface is on a link or a segment.
func (i *Iface) attached() bool { return !i.free() }

// Addr is the interface's (first) address.
func (i *Iface) Addr() netip.Addr { return i.Prefix.Addr() }

// Prefixes are the interface's addresses with their prefix lengths: Prefix, then Also.
func (i *Iface) Prefixes() []netip.Prefix {
	if i.Also.IsValid() {
		return []netip.Prefix{i.Prefix, i.Also}
	}
	return []netip.Prefix{i.Prefix}
}

// has reports whether a is one of the interface's addresses.
func (i *Iface) has(a netip.Addr) bool {
	return i.Prefix.Addr() == a || i.Also.IsValid() && i.Also.Addr() == a
}

// AddrFor is the interface's address of dst's family: the source of what it sends to
// dst. An interface without one gives its first.
func (i *Iface) AddrFor(dst netip.Addr) netip.Addr {
	if i.Also.IsValid() && i.Also.Addr().Is4() == dst.Is4() {
		return i.Also.Addr()
	}
	return i.Prefix.Addr()
}

// Peer is the interface at the other end of the link, or nil.
func (i *Iface) Peer() *Iface {
	switch {
	case i.Link == nil:
		return nil
	case i.Link.A == i:
		return i.Link.B
	default:
		return i.Link.A
	}
}

// sameSubnet finds two free interfaces, one on each node, in the same subnet (the
// natural ends of a link), unless addresses were given.
func sameSubnet(a, b *Node, addrA, addrB netip.Addr) (*Iface, *Iface) {
	if addrA.IsValid() || addrB.IsValid() {
		return nil, nil
	}
	for _, ia := range a.Ifaces {
		for _, ib := range b.Ifaces {
			if !ia.free() || !ib.free() {
				continue
			}
			for _, pa := range ia.Prefixes() {
				for _, pb := range ib.Prefixes() {
					if pa.Masked() == pb.Masked() {
						return ia, ib
					}
				}
			}
		}
	}
	return nil, nil
}

func (nd *Node) freeIface(addr netip.Addr, other *Node) (*Iface, error) {
	for _, i := range nd.Ifaces {
		if addr.IsValid() {
			if i.has(addr) {
				if !i.free() {
					return nil, fmt.Errorf("sim: interface %s of %q is linked twice", addr, nd.Name)
				}
				return i, nil
			}
			continue
		}
		if i.free() {
			return i, nil
		}
	}
	if addr.IsValid() {
		return nil, fmt.Errorf("sim: node %q has no interface with address %s", nd.Name, addr)
	}
	return nil, fmt.Errorf("sim: node %q has no free interface for a link to %q (give it one more address)", nd.Name, other.Name)
}

// ComputeRoutes fills every node's routing table: its connected prefixes, and for every
// other node's prefixes the interface of the first hop on a shortest path, and on a
// segment the neighbour that takes the packet. A NAT does not pass on the prefixes
// inside it. A node with one link sends what it has no route for out of it (a default
// route); a node whose only attachment is a segment uses the segment's table, made
// once for all its members, so that ten thousand road warriors on one segment cost
// one search, not ten thousand.
func (n *Network) ComputeRoutes() {
	for _, seg := range n.Segments {
		seg.table = nil
	}
	for _, src := range n.Nodes {
		src.routes, src.shared, src.segIface = &routeTable{}, nil, nil
		for _, i := range src.Ifaces {
			for _, p := range i.Prefixes() {
				src.routes.add(route{prefix: p, iface: i})
			}
		}
		var attached []*Iface
		for _, i := range src.Ifaces {
			if i.attached() {
				attached = append(attached, i)
			}
		}
		switch {
		case len(attached) == 1 && attached[0].Link != nil:
			for _, any := range []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()} {
				src.routes.add(route{prefix: netip.PrefixFrom(any, 0), iface: attached[0], next: attached[0].Peer()})
			}
		case len(attached) == 1:
			seg := attached[0].Segment
			if seg.table == nil {
				seg.table = &routeTable{}
				n.search(nil, seg, seg.table.add)
				for _, m := range seg.Members {
					if m.Node.Kind != KindHost {
						// The default route: the segment's first forwarder.
						seg.table.add(route{prefix: netip.PrefixFrom(netip.IPv4Unspecified(), 0), next: m})
						seg.table.add(route{prefix: netip.PrefixFrom(netip.IPv6Unspecified(), 0), next: m})
						break
					}
				}
			}
			src.shared, src.segIface = seg.table, attached[0]
		default:
			n.search(src, nil, src.routes.add)
		}
	}
}

// search runs a breadth-first search over links and segments from src, or from the
// members of seg, and adds a route to every prefix found (each at its first, shortest,
// hop). Routes from a segment have no interface: each member uses its own on it.
func (n *Network) search(src *Node, seg *Segment, add func(route) bool) {
	n.searchMark++
	mark := n.searchMark
	first := map[*Node]route{}
	var queue []*Node
	reach := func(cur *Node, hop route, p *Iface) {
		pn := p.Node
		if pn.mark == mark {
			return
		}
		pn.mark = mark
		first[pn] = hop
		for _, pi := range pn.Ifaces {
			if pn.Kind == KindNAT && pi != p && pi.Index != pn.outsideIndex() {
				continue // private side of a NAT: not routable from outside
			}
			for _, p := range pi.Prefixes() {
				hop.prefix = p.Masked()
				add(hop)
			}
		}
		if pn.Kind != KindHost {
			queue = append(queue, pn)
		}
	}
	if src != nil {
		src.mark = mark
		queue = append(queue, src)
	} else {
		seg.mark = mark
		for _, m := range seg.Members {
			reach(nil, route{next: m}, m)
		}
	}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, i := range cur.Ifaces {
			hop := first[cur]
			if cur == src {
				hop = route{iface: i}
			}
			switch {
			case i.Link != nil:
				if cur == src {
					hop.next = i.Peer()
				}
				reach(cur, hop, i.Peer())
			case i.Segment != nil && i.Segment.mark != mark:
				i.Segment.mark = mark
				for _, m := range i.Segment.Members {
					if m == i {
						continue
					}
					if cur == src {
						hop.next = m
					}
					reach(cur, hop, m)
				}
			}
		}
	}
}

// route is one entry of a routing table: packets for prefix leave by iface (none in a
// segment's table: each member's own on it) to next, the neighbour's interface (on a
// segment, the member that has the destination address takes it first).
type route struct {
	prefix netip.Prefix
	iface  *Iface
	next   *Iface
}

// routeTable finds routes by longest prefix match: one map per prefix length.
type routeTable struct {
	bits   []int // the prefix lengths present, longest first
	byBits map[int]map[netip.Prefix]route
}

// add adds a route unless one for its prefix is there; it reports whether it did.
func (t *routeTable) add(r route) bool {
	r.prefix = r.prefix.Masked()
	bits := r.prefix.Bits()
	if t.byBits == nil {
		t.byBits = map[int]map[netip.Prefix]route{}
	}
	m := t.byBits[bits]
	if m == nil {
		m = map[netip.Prefix]route{}
		t.byBits[bits] = m
		t.bits = append(t.bits, bits)
		sort.Sort(sort.Reverse(sort.IntSlice(t.bits)))
	}
	if _, ok := m[r.prefix]; ok {
		return false
	}
	m[r.prefix] = r
	return true
}

// lookup finds the route with the longest prefix that holds dst.
func (t *routeTable) lookup(dst netip.Addr) (route, bool) {
	if t == nil {
		return route{}, false
	}
	for _, bits := range t.bits {
		p, _ := dst.Prefix(bits)
		if r, ok := t.byBits[bits][p]; ok {
			return r, true
		}
	}
	return route{}, false
}

// route finds the interface toward dst, and the neighbour that takes the packet (nil:
// the other end of a link, or the member of a segment that has dst).
func (nd *Node) route(dst netip.Addr) (*Iface, *Iface) {
	r, ok := nd.routes.lookup(dst)
	if s, sok := nd.shared.lookup(dst); sok && (!ok || s.prefix.Bits() > r.prefix.Bits()) {
		s.iface = nd.segIface
		r, ok = s, true
	}
	if !ok {
		return nil, nil
	}
	return r.iface, r.next
}

// HasAddr reports whether a is one of the node's addresses (its virtual IP included).
func (nd *Node) HasAddr(a netip.Addr) bool {
	for _, i := range nd.Ifaces {
		if i.has(a) {
			return true
		}
	}
	return nd.VirtualIP.IsValid() && nd.VirtualIP == a
}

// Addr is the node's first address.
func (nd *Node) Addr() netip.Addr {
	if nd.VirtualIP.IsValid() {
		return nd.VirtualIP
	}
	if len(nd.Ifaces) == 0 {
		return netip.Addr{}
	}
	return nd.Ifaces[0].Addr()
}

// sourceFor picks the source address for a packet to dst: the address of the outgoing
// interface of dst's family (or the virtual IP when the packet will be tunnelled).
func (nd *Node) sourceFor(dst netip.Addr) netip.Addr {
	if i, _ := nd.route(dst); i != nil {
		return i.AddrFor(dst)
	}
	return nd.Addr()
}

// arrival is when a datagram sent now arrives over a medium with impairments p: after
// the delay and a random jitter, and not before the one sent before it (last), unless
// it is held back behind the next ones (reordered).
func arrival(p *LinkParams, r *Rand, now time.Duration, last *time.Duration) time.Duration {
	d := p.Delay
	if p.Jitter > 0 {
		d += time.Duration(r.Float64() * float64(p.Jitter))
	}
	at := now + d
	if r.Chance(p.Reorder) {
		// held back: it arrives after the next datagrams (one more delay later)
		return at + p.Delay + time.Millisecond
	}
	if at < *last {
		at = *last
	}
	*last = at
	return at
}

// Start computes the routes and installs every daemon's trap policies. Call it after
// the topology and the IKE daemons are in place, before Run.
func (n *Network) Start() {
	n.ComputeRoutes()
	for _, nd := range n.Nodes {
		nd.InstallTraps()
	}
	// The trace starts with the topology: one event per node, in the order the nodes
	// were made, which diagrams take as the order of their lanes, with its SPD.
	for _, nd := range n.Nodes {
		nd.recordTopology(nd.describe())
	}
}

// recordTopology records the node as it is now, with its SPD: as the run starts, and
// again when it restarts.
func (nd *Node) recordTopology(text string) {
	t := nd.topology()
	t.SPD = trace.Policies(nd.SPD.Policies())
	nd.net.emit(&trace.Event{Kind: trace.KindTopology, Node: nd.Name, Text: text, Topology: t})
}

// describe says what a node is, for people: "gateway with 10.1.0.1/24, 198.51.100.1/24".
func (nd *Node) describe() string {
	var addrs []string
	for _, i := range nd.Ifaces {
		for _, p := range i.Prefixes() {
			addrs = append(addrs, p.String())
		}
	}
	return fmt.Sprintf("node %s: %s with %s", nd.Name, nd.Kind, strings.Join(addrs, ", "))
}

// topology describes a node for its topology event: its kind, its interfaces and the
// links they are on (each link's impairments on its first end), a NAT's outside
// address and the node's IKE connections.
func (nd *Node) topology() *trace.Topology {
	t := &trace.Topology{NodeKind: string(nd.Kind), Conns: nd.Conns, Group: nd.Group}
	if nd.Kind == KindNAT && len(nd.Ifaces) > 0 {
		t.NAT = nd.Ifaces[nd.outsideIndex()].Prefix.Addr().String()
	}
	for _, i := range nd.Ifaces {
		ti := trace.Iface{Prefix: i.Prefix.String()}
		if i.Also.IsValid() {
			ti.Also = i.Also.String()
		}
		if p := i.Peer(); p != nil {
			ti.Peer = p.Node.Name
			if l := i.Link; l.A == i {
				ti.Link = l.LinkParams.trace()
			}
		}
		if seg := i.Segment; seg != nil {
			ti.Segment = seg.Name
			if seg.Members[0] == i {
				ti.Link = seg.LinkParams.trace()
			}
		}
		t.Ifaces = append(t.Ifaces, ti)
	}
	return t
}

// trace describes a link's or a segment's impairments for the topology event.
func (p *LinkParams) trace() *trace.Link {
	return &trace.Link{Delay: trace.Seconds(p.Delay), Jitter: trace.Seconds(p.Jitter), Loss: p.Loss,
		Duplicate: p.Duplicate, Reorder: p.Reorder, Corrupt: p.Corrupt, MTU: p.MTU}
}

// SetLink takes a link down or brings it up again.
func (n *Network) SetLink(a, b string, up bool) error {
	l := n.Link(a, b)
	if l == nil {
		return fmt.Errorf("sim: no link between %q and %q", a, b)
	}
	l.Down = !up
	state := "down"
	if up {
		state = "up"
	}
	n.emit(&trace.Event{Kind: trace.KindInfo, Node: trace.ScenarioNode, Text: "link " + l.Name() + " goes " + state})
	return nil
}

// Restart powers a node off and on: it loses every SA, policy and queued packet, and
// gets a fresh IKE daemon from its Reboot function.
func (n *Network) Restart(name string) error {
	nd := n.byName[name]
	if nd == nil {
		return fmt.Errorf("sim: restart of unknown node %q", name)
	}
	if nd.IKE != nil {
		nd.IKE.Close()
		nd.IKE = nil
	}
	nd.Reset()
	nd.boots++
	nd.Action("Node restarts: every SA, policy and queued packet is gone")
	if nd.Reboot != nil {
		d, err := nd.Reboot()
		if err != nil {
			return err
		}
		nd.IKE = d
	}
	nd.InstallTraps()
	nd.recordTopology(nd.describe() + ", restarted")
	return nil
}
