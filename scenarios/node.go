package scenarios

import (
	"fmt"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev1"
	"github.com/ikesim/ikesim/ike/ikev2"
)

// One node's IKE configuration, for Build and for a node that runs alone against a real
// peer (ikesim live).

// newValidator makes the validator that turns a checked scenario's specs into engine
// configuration, reporting problems at their place in the file.
func newValidator(s *Scenario) *validator {
	v := &validator{f: s.File, file: s.ast, pos: s.pos, mk: func(l, c int, m string) *Error { return &Error{File: s.Path, Line: l, Col: c, Msg: m} },
		dir: fileDir(s.Path)}
	v.nodes, v.index = map[string]*NodeSpec{}, map[string]int{}
	for i := range s.File.Topology.Nodes {
		v.nodes[s.File.Topology.Nodes[i].Name] = &s.File.Topology.Nodes[i]
		v.index[s.File.Topology.Nodes[i].Name] = i
	}
	return v
}

// NodeConnections returns a node's IKE connections as its engine gets them in a
// simulated run: fresh copies, with reqids unique on the node.
func (s *Scenario) NodeConnections(node string) ([]*ike.Connection, error) {
	if _, ok := s.File.Connections[node]; !ok {
		return nil, fmt.Errorf("scenario %s: node %q has no connections", s.Path, node)
	}
	return newValidator(s).nodeConnections(node)
}

func (v *validator) nodeConnections(node string) ([]*ike.Connection, error) {
	var conns []*ike.Connection
	reqid := uint32(0)
	var limits *ike.Limits
	if n := v.nodes[node]; n != nil {
		limits = v.charon(n.Charon, fmt.Sprintf("$.topology.nodes[%d].charon", v.nodeIndex(node)))
	}
	for _, cn := range sortedKeys(v.f.Connections[node]) {
		c, err := v.connection(node, cn, "$.connections."+key(node)+"."+key(cn))
		if err != nil {
			return nil, v.errs
		}
		c.Limits = limits // the node's, on each of its connections
		if n := v.nodes[node]; n != nil && n.Charon != nil && c.Keepalive == 0 {
			c.Keepalive = n.Charon.KeepAlive.D()
		}
		for _, ch := range c.Children {
			reqid++
			ch.ReqID = reqid // unique on the node, whichever engine runs the child
		}
		conns = append(conns, c)
	}
	return conns, nil
}

// NewDaemon makes the IKE engine of a node's connections in env: IKEv2, IKEv1, or both
// behind an ike.Mux that routes each datagram by the version in its header.
func NewDaemon(env ike.Env, node string, conns []*ike.Connection) (ike.Daemon, error) {
	versions := map[int]bool{}
	for _, c := range conns {
		versions[c.Version] = true
	}
	if !versions[1] {
		return ikev2.New(env, node, conns)
	}
	v1, err := ikev1.New(env, node, conns)
	if err != nil {
		return nil, err
	}
	if !versions[2] {
		return v1, nil
	}
	v2, err := ikev2.New(env, node, conns)
	if err != nil {
		return nil, err
	}
	return ike.NewMux(v1, v2, conns), nil
}
