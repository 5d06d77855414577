package render

// The network a topology view draws: from the scenario file when there is one, else
// inferred from a trace (render/graph.TopologyOf).

// TopoNode is one node of a topology.
type TopoNode struct {
	Name  string
	Kind  string   // host, gateway, router, nat; "" when unknown (a saved trace)
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
