package sim

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ipsec"
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
	Sim    *Sim
	Nodes  []*Node
	Links  []*Link
	byName map[string]*Node
	// Faults are message rules checked on every transmission (drop, duplicate, delay,
	// corrupt the Nth message of an exchange).
	Faults []*Fault
	// Pings are every ping run so far, in the order they started.
	Pings []*Ping
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
	nd := &Node{Name: name, Kind: kind, net: n, SPD: &ipsec.SPD{}, SAD: &ipsec.SAD{},
		acquired: map[uint32][]queued{}, natMap: map[natKey]*natEntry{},
		natRev: map[natKey]*natEntry{}, pings: map[uint16]*Ping{}}
	for _, a := range addrs {
		nd.Ifaces = append(nd.Ifaces, &Iface{Node: nd, Prefix: a, Index: len(nd.Ifaces)})
	}
	nd.rand = n.Sim.Rand("node/" + name)
	nd.Recorder = trace.Recorder{Node: name, Emit: n.emit}
	n.Nodes = append(n.Nodes, nd)
	n.byName[name] = nd
	return nd, nil
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

// Link returns the link between two nodes, or nil.
func (n *Network) Link(a, b string) *Link {
	for _, l := range n.Links {
		if (l.A.Node.Name == a && l.B.Node.Name == b) || (l.A.Node.Name == b && l.B.Node.Name == a) {
			return l
		}
	}
	return nil
}

// Iface is one interface of a node: an address with its prefix, and the link it is on.
type Iface struct {
	Node   *Node
	Index  int
	Prefix netip.Prefix
	Link   *Link
}

// Addr is the interface's address.
func (i *Iface) Addr() netip.Addr { return i.Prefix.Addr() }

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
			if ia.Link == nil && ib.Link == nil && ia.Prefix.Masked() == ib.Prefix.Masked() {
				return ia, ib
			}
		}
	}
	return nil, nil
}

func (nd *Node) freeIface(addr netip.Addr, other *Node) (*Iface, error) {
	for _, i := range nd.Ifaces {
		if addr.IsValid() {
			if i.Addr() == addr {
				if i.Link != nil {
					return nil, fmt.Errorf("sim: interface %s of %q is linked twice", addr, nd.Name)
				}
				return i, nil
			}
			continue
		}
		if i.Link == nil {
			return i, nil
		}
	}
	if addr.IsValid() {
		return nil, fmt.Errorf("sim: node %q has no interface with address %s", nd.Name, addr)
	}
	return nil, fmt.Errorf("sim: node %q has no free interface for a link to %q (give it one more address)", nd.Name, other.Name)
}

type route struct {
	prefix netip.Prefix
	iface  *Iface
}

// ComputeRoutes fills every node's routing table: its connected prefixes, and for every
// other node's prefixes the interface of the first hop on a shortest path. A NAT does
// not pass on the prefixes inside it.
func (n *Network) ComputeRoutes() {
	for _, src := range n.Nodes {
		src.routes = nil
		seen := map[netip.Prefix]bool{}
		add := func(p netip.Prefix, via *Iface) {
			p = p.Masked()
			if !seen[p] {
				seen[p] = true
				src.routes = append(src.routes, route{p, via})
			}
		}
		for _, i := range src.Ifaces {
			add(i.Prefix, i)
		}
		// Breadth-first over the links; first[x] is src's interface toward x.
		first := map[*Node]*Iface{}
		queue := []*Node{src}
		visited := map[*Node]bool{src: true}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, i := range cur.Ifaces {
				p := i.Peer()
				if p == nil || visited[p.Node] {
					continue
				}
				visited[p.Node] = true
				hop := first[cur]
				if cur == src {
					hop = i
				}
				first[p.Node] = hop
				for _, pi := range p.Node.Ifaces {
					if p.Node.Kind == KindNAT && pi != p && pi.Index != p.Node.outsideIndex() {
						continue // private side of a NAT: not routable from outside
					}
					add(pi.Prefix, hop)
				}
				if p.Node.Kind != KindHost {
					queue = append(queue, p.Node)
				}
			}
		}
		// A node with one link sends what it has no route for out of it (a default
		// route): virtual IPs, for one, are in no node's prefixes.
		var linked []*Iface
		for _, i := range src.Ifaces {
			if i.Link != nil {
				linked = append(linked, i)
			}
		}
		if len(linked) == 1 {
			add(netip.PrefixFrom(netip.IPv4Unspecified(), 0), linked[0])
		}
		sort.SliceStable(src.routes, func(a, b int) bool { return src.routes[a].prefix.Bits() > src.routes[b].prefix.Bits() })
	}
}

// route finds the interface toward dst by longest prefix match.
func (nd *Node) route(dst netip.Addr) *Iface {
	for _, r := range nd.routes {
		if r.prefix.Contains(dst) {
			return r.iface
		}
	}
	return nil
}

// HasAddr reports whether a is one of the node's addresses (its virtual IP included).
func (nd *Node) HasAddr(a netip.Addr) bool {
	for _, i := range nd.Ifaces {
		if i.Addr() == a {
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
// interface (or the virtual IP when the packet will be tunnelled).
func (nd *Node) sourceFor(dst netip.Addr) netip.Addr {
	if i := nd.route(dst); i != nil {
		return i.Addr()
	}
	return nd.Addr()
}

// queued is a packet waiting for an SA (acquire) with the reqid of its policy.
type queued struct {
	pkt  []byte
	meta *packetMeta
}

// sendTime is when a datagram put on l now in direction dir reaches the far end.
func (l *Link) arrival(now time.Duration, dir int) time.Duration {
	d := l.Delay
	if l.Jitter > 0 {
		d += time.Duration(l.rand.Float64() * float64(l.Jitter))
	}
	at := now + d
	if l.rand.Chance(l.Reorder) {
		// held back: it arrives after the next datagrams (one more delay later)
		return at + l.Delay + time.Millisecond
	}
	if at < l.last[dir] {
		at = l.last[dir]
	}
	l.last[dir] = at
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
		addrs = append(addrs, i.Prefix.String())
	}
	return fmt.Sprintf("node %s: %s with %s", nd.Name, nd.Kind, strings.Join(addrs, ", "))
}

// topology describes a node for its topology event: its kind, its interfaces and the
// links they are on (each link's impairments on its first end), a NAT's outside
// address and the node's IKE connections.
func (nd *Node) topology() *trace.Topology {
	t := &trace.Topology{NodeKind: string(nd.Kind), Conns: nd.Conns}
	if nd.Kind == KindNAT && len(nd.Ifaces) > 0 {
		t.NAT = nd.Ifaces[nd.outsideIndex()].Prefix.Addr().String()
	}
	for _, i := range nd.Ifaces {
		ti := trace.Iface{Prefix: i.Prefix.String()}
		if p := i.Peer(); p != nil {
			ti.Peer = p.Node.Name
			if l := i.Link; l.A == i {
				ti.Link = &trace.Link{Delay: trace.Seconds(l.Delay), Jitter: trace.Seconds(l.Jitter), Loss: l.Loss,
					Duplicate: l.Duplicate, Reorder: l.Reorder, Corrupt: l.Corrupt, MTU: l.MTU}
			}
		}
		t.Ifaces = append(t.Ifaces, ti)
	}
	return t
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
	nd.SPD, nd.SAD = &ipsec.SPD{}, &ipsec.SAD{}
	nd.acquired = map[uint32][]queued{}
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
