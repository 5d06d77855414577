package render

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/ikesim/ikesim/sim/trace"
)

// The network a topology view draws, read from the trace's topology events
// (TopologyOf).

// TopoNode is one node of a topology.
type TopoNode struct {
	Name  string
	Kind  string   // host, gateway, router, nat, peer; "" when unknown (a trace without topology)
	Addrs []string // "10.1.0.1/24", or bare addresses when the prefix is unknown
	NAT   string   // a NAT's outside address
}

// TopoLink joins two nodes; Label says what it does to packets ("20ms, 30% loss").
type TopoLink struct {
	A, B  string
	Label string
}

// TopoPeer is an IKE connection between two nodes.
type TopoPeer struct {
	A, B  string
	Label string // the connection's name and proposals
}

// Topology is what the topology view draws.
type Topology struct {
	Name  string
	Nodes []TopoNode
	Links []TopoLink
	Peers []TopoPeer
}

// TopologyOf is the network of a trace, named name. It reads the trace's topology
// events: each node's kind, addresses and NAT outside address, the links on its
// interfaces with their impairments, and its IKE connections, whose remote addresses
// name their peers. A live node's real peers (node kind peer) are its links and IKE
// peers; real peers without a live node (an imported capture) are IKE peers when they
// made messages of one IKE SA. A trace that records no topology (format version 1, an
// import of an older ikesim) is inferred from its messages instead
// (topologyFromMessages).
func TopologyOf(tr *trace.Trace, name string) *Topology {
	t := &Topology{Name: name}
	var topo []*trace.Event // the first topology event of each node
	seen := map[string]bool{}
	for _, e := range tr.Events {
		if e.Kind == trace.KindTopology && e.Topology != nil && !seen[e.Node] {
			seen[e.Node] = true
			topo = append(topo, e)
		}
	}
	if len(topo) == 0 {
		return topologyFromMessages(tr, t)
	}
	owner := map[string]string{} // address -> node
	var live, peers []string     // live mode: the live nodes and their real peers
	for _, e := range topo {
		n := TopoNode{Name: e.Node, Kind: e.Topology.NodeKind, NAT: e.Topology.NAT}
		for _, i := range e.Topology.Ifaces {
			for _, a := range []string{i.Prefix, i.Also} {
				if a == "" {
					continue
				}
				if !slices.Contains(n.Addrs, a) { // an imported peer's interfaces share its address
					n.Addrs = append(n.Addrs, a)
				}
				if p, err := netip.ParsePrefix(a); err == nil {
					owner[p.Addr().String()] = e.Node
				}
			}
			if i.Link != nil && i.Peer != "" {
				t.Links = append(t.Links, TopoLink{A: e.Node, B: i.Peer, Label: linkLabel(i.Link)})
			}
		}
		if len(n.Addrs) == 0 && e.Topology.Live != "" {
			n.Addrs = append(n.Addrs, e.Topology.Live)
		}
		switch {
		case e.Topology.NodeKind == "peer":
			peers = append(peers, e.Node)
		case e.Topology.Live != "":
			live = append(live, e.Node)
		}
		t.Nodes = append(t.Nodes, n)
	}
	done := map[[2]string]bool{}
	for _, l := range live {
		for _, p := range peers {
			t.Links = append(t.Links, TopoLink{A: l, B: p})
			t.Peers = append(t.Peers, TopoPeer{A: l, B: p, Label: "IKE"})
			done[pair(l, p)] = true
		}
	}
	// Real peers without a live node (an imported capture) have no connections the
	// trace knows: two of them are IKE peers when they made messages of one IKE SA.
	isPeer := map[string]bool{}
	for _, p := range peers {
		isPeer[p] = true
	}
	for _, k := range sortedPairs(ikePeers(tr)) {
		if isPeer[k[0]] && isPeer[k[1]] && !done[k] {
			done[k] = true
			t.Peers = append(t.Peers, TopoPeer{A: k[0], B: k[1], Label: "IKE"})
		}
	}
	sort.Slice(topo, func(i, j int) bool { return topo[i].Node < topo[j].Node })
	for _, e := range topo {
		for _, c := range e.Topology.Conns {
			for _, ra := range c.Remote {
				peer := owner[ra]
				if peer == "" || done[pair(e.Node, peer)] {
					continue
				}
				done[pair(e.Node, peer)] = true
				t.Peers = append(t.Peers, TopoPeer{A: e.Node, B: peer, Label: "IKE " + c.Name + " " + strings.Join(c.Proposals, ",")})
			}
		}
	}
	return t
}

// defaultMTU is a link's MTU unless the scenario says otherwise (docs/scenarios.md): a
// link label leaves it out.
const defaultMTU = 1500

// linkLabel says what a link does to datagrams: "20ms, ±5ms, 30% loss, MTU 1400".
func linkLabel(l *trace.Link) string {
	var what []string
	if l.Delay != 0 {
		what = append(what, l.Delay.Duration().String())
	}
	if l.Jitter != 0 {
		what = append(what, "±"+l.Jitter.Duration().String())
	}
	for _, p := range []struct {
		v    float64
		name string
	}{{l.Loss, "loss"}, {l.Duplicate, "duplicated"}, {l.Reorder, "reordered"}, {l.Corrupt, "corrupted"}} {
		if p.v != 0 {
			what = append(what, fmt.Sprintf("%g%% %s", p.v*100, p.name))
		}
	}
	if l.MTU != 0 && l.MTU != defaultMTU {
		what = append(what, fmt.Sprintf("MTU %d", l.MTU))
	}
	return strings.Join(what, ", ")
}

// topologyFromMessages infers the network from a trace's messages: the nodes in the
// order they appear, each pair of nodes a message passed between is a link, the
// addresses a node sent from are its addresses, and two nodes that made IKE messages
// of the same IKE SA (the same initiator SPI) are peers.
func topologyFromMessages(tr *trace.Trace, t *Topology) *Topology {
	var nodes []string
	addrs := map[string]map[string]bool{}
	addNode := func(n string) {
		if n != "" && n != trace.ScenarioNode && addrs[n] == nil {
			addrs[n] = map[string]bool{}
			nodes = append(nodes, n)
		}
	}
	links := map[[2]string]bool{}
	for _, e := range tr.Events {
		if e.Kind != trace.KindMessage {
			addNode(e.Node)
			continue
		}
		addNode(e.From())
		addNode(e.To())
		links[pair(e.From(), e.To())] = true
		if e.Forwarded() {
			continue
		}
		if ap, err := netip.ParseAddrPort(e.Src()); err == nil {
			addrs[e.From()][ap.Addr().String()] = true
		} else if ad, err := netip.ParseAddr(e.Src()); err == nil {
			addrs[e.From()][ad.String()] = true
		}
	}
	for _, name := range nodes {
		n := TopoNode{Name: name}
		for a := range addrs[name] {
			n.Addrs = append(n.Addrs, a)
		}
		sort.Strings(n.Addrs)
		t.Nodes = append(t.Nodes, n)
	}
	for _, k := range sortedPairs(links) {
		t.Links = append(t.Links, TopoLink{A: k[0], B: k[1]})
	}
	for _, k := range sortedPairs(ikePeers(tr)) {
		t.Peers = append(t.Peers, TopoPeer{A: k[0], B: k[1], Label: "IKE"})
	}
	return t
}

// ikePeers are the pairs of nodes that made IKE messages of one IKE SA (the same
// initiator SPI).
func ikePeers(tr *trace.Trace) map[[2]string]bool {
	bySPI := map[string]map[string]bool{} // initiator SPI -> nodes that made its messages
	for _, e := range tr.Events {
		if e.Kind != trace.KindMessage || e.Forwarded() || e.SPIi() == "" {
			continue
		}
		if bySPI[e.SPIi()] == nil {
			bySPI[e.SPIi()] = map[string]bool{}
		}
		bySPI[e.SPIi()][e.From()] = true
	}
	peers := map[[2]string]bool{}
	for _, nodes := range bySPI {
		if len(nodes) == 2 {
			var ns []string
			for n := range nodes {
				ns = append(ns, n)
			}
			peers[pair(ns[0], ns[1])] = true
		}
	}
	return peers
}

// pair is a and b in order, as a map key.
func pair(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

func sortedPairs(m map[[2]string]bool) [][2]string {
	var out [][2]string
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][0] != out[j][0] {
			return out[i][0] < out[j][0]
		}
		return out[i][1] < out[j][1]
	})
	return out
}
