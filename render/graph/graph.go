// Package graph describes a scenario's topology and a node's IKE state machines as
// Graphviz DOT, for the graph views. It writes DOT text only: laying it out is the job
// of render/graph/graphviz, which imports go-graphviz and so compiles its WebAssembly
// when a process starts; keeping that import out of this package keeps the cost out of
// every process that does not draw a graph.
//
// It imports render only; it must not import scenarios, the protocol packages or any
// UI package.
package graph

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/sim/trace"
)

// Node, Link, Peer and Topology are the topology view's model (render.TopologyOf).
type (
	Node     = render.TopoNode
	Link     = render.TopoLink
	Peer     = render.TopoPeer
	Topology = render.Topology
)

func add(m map[string]map[string]bool, k, v string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][v] = true
}

// q quotes s as a DOT string. Backslashes are doubled so that Graphviz's escapes
// (\N, \G, \l) in scenario text stay literal; \n in the result is a DOT line break
// only where this package puts one (see lines).
func q(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n', '\r':
			b.WriteString(` `)
		default:
			if r >= 0x20 {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// lines quotes several lines as one DOT label.
func lines(ls ...string) string {
	var parts []string
	for _, l := range ls {
		if l != "" {
			parts = append(parts, strings.Trim(q(l), `"`))
		}
	}
	return `"` + strings.Join(parts, `\n`) + `"`
}

// subnet is the network of a prefix ("10.1.0.1/24" -> "10.1.0.0/24"), or "".
func subnet(a string) string {
	p, err := netip.ParsePrefix(a)
	if err != nil {
		return ""
	}
	return p.Masked().String()
}

var shapes = map[string]string{"host": "box", "gateway": "box3d", "router": "ellipse", "nat": "octagon", "": "box"}

// TopologyDOT describes topology t: nodes with their kind and addresses, links labelled
// with the subnet their ends share and what the link does, NAT boxes, and dashed
// edges for IKE connections.
func TopologyDOT(t *Topology) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "graph topology {\n  graph [label=%s, labelloc=t, fontname=\"Helvetica\", fontsize=16, rankdir=LR, nodesep=0.5, ranksep=0.9];\n", q(t.Name+": topology"))
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=11, style=filled, fillcolor=\"#edf2f7\", color=\"#2d3748\"];\n  edge [fontname=\"Helvetica\", fontsize=10, color=\"#4a5568\"];\n")
	nets := map[string]map[string]bool{} // node -> its subnets
	for _, n := range t.Nodes {
		kind := n.Kind
		fill := map[string]string{"gateway": "#bee3f8", "nat": "#feebc8", "router": "#e9d8fd"}[kind]
		if fill == "" {
			fill = "#edf2f7"
		}
		label := []string{n.Name}
		if kind != "" {
			label = append(label, "("+kind+")")
		}
		label = append(label, n.Addrs...)
		if n.NAT != "" {
			label = append(label, "NAT outside "+n.NAT)
		}
		for _, a := range n.Addrs {
			if s := subnet(a); s != "" {
				add(nets, n.Name, s)
			}
		}
		class := "node-" + kind
		if kind == "" {
			class = "node-unknown"
		}
		fmt.Fprintf(&b, "  %s [id=%s, class=%s, shape=%s, fillcolor=%s, label=%s, tooltip=%s];\n",
			q(n.Name), q("node-"+n.Name), q(class), shapes[kind], q(fill), lines(label...), q(strings.Join(append([]string{n.Name}, n.Addrs...), " ")))
	}
	for _, l := range t.Links {
		var shared []string
		for s := range nets[l.A] {
			if nets[l.B][s] {
				shared = append(shared, s)
			}
		}
		sort.Strings(shared)
		fmt.Fprintf(&b, "  %s -- %s [id=%s, class=\"link\", penwidth=1.6, label=%s];\n",
			q(l.A), q(l.B), q("link-"+l.A+"-"+l.B), lines(append(shared, l.Label)...))
	}
	for _, p := range t.Peers {
		fmt.Fprintf(&b, "  %s -- %s [id=%s, class=\"ike\", style=dashed, color=\"#2b6cb0\", fontcolor=\"#2b6cb0\", constraint=false, label=%s];\n",
			q(p.A), q(p.B), q("ike-"+p.A+"-"+p.B), q(p.Label))
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// machine is one kind of state machine: its states and the transitions the engines
// make, named as strongSwan names them.
type machine struct {
	name        string // "IKE SA", "CHILD_SA"
	states      []string
	transitions [][2]string
}

// machines are the IKEv2 engine's state machines; a transition seen in a trace but
// missing here is drawn too.
var machines = []machine{
	{"IKE SA", []string{"CREATED", "CONNECTING", "ESTABLISHED", "REKEYING", "REKEYED", "DELETING", "DESTROYED"}, [][2]string{
		{"CREATED", "CONNECTING"}, {"CONNECTING", "ESTABLISHED"}, {"CREATED", "ESTABLISHED"},
		{"ESTABLISHED", "REKEYING"}, {"REKEYING", "ESTABLISHED"}, {"REKEYING", "REKEYED"}, {"ESTABLISHED", "REKEYED"},
		{"ESTABLISHED", "DELETING"}, {"REKEYED", "DELETING"}, {"DELETING", "DESTROYED"},
		{"CONNECTING", "DESTROYED"}, {"ESTABLISHED", "DESTROYED"}, {"REKEYED", "DESTROYED"},
	}},
	{"CHILD_SA", []string{"CREATED", "INSTALLED", "REKEYING", "REKEYED", "DELETING", "DESTROYED"}, [][2]string{
		{"CREATED", "INSTALLED"}, {"INSTALLED", "REKEYING"}, {"REKEYING", "INSTALLED"}, {"REKEYING", "REKEYED"},
		{"INSTALLED", "REKEYED"}, {"INSTALLED", "DELETING"}, {"REKEYED", "DELETING"}, {"DELETING", "DESTROYED"},
		{"INSTALLED", "DESTROYED"}, {"REKEYED", "DESTROYED"},
	}},
}

// machineOf names the kind of machine of a state event and the instance of that kind.
// A trace of format version 1 has no kinds: each machine then stands alone.
func machineOf(e *trace.Event) (kind, instance string) {
	if e.MachineKind() == "" {
		return e.Machine(), ""
	}
	return e.MachineKind(), e.Instance()
}

// seen is what a run did to one kind of machine on one node.
type seen struct {
	states map[string]bool
	edges  map[[2]string][]string // transition -> "0.081s site-to-site[1]" ...
	order  [][2]string            // the transitions in the order the run made them first
}

// States lists the nodes that have state changes in d, in lane order.
func States(d *render.Diagram) []string {
	has := map[int]bool{}
	for _, r := range d.Rows {
		if r.Kind == render.RowState {
			has[r.Lane] = true
		}
	}
	var out []string
	for i, l := range d.Lanes {
		if has[i] {
			out = append(out, l.Name)
		}
	}
	return out
}

// StatesDOT describes the IKE SA and CHILD_SA state machines of node, with the states
// the run went through filled and the transitions it made drawn bold and labelled
// with when they happened. Diagram d must keep its state rows (HideStates false).
func StatesDOT(d *render.Diagram, node string) ([]byte, error) {
	lane := -1
	for i, l := range d.Lanes {
		if l.Name == node {
			lane = i
		}
	}
	if lane < 0 {
		return nil, render.InputErrorf("graph: no node %q in the trace (nodes with state changes: %s)", node, strings.Join(States(d), ", "))
	}
	runs := map[string]*seen{}
	var kinds []string
	for _, r := range d.Rows {
		if r.Kind != render.RowState || r.Lane != lane || r.Event == nil {
			continue
		}
		e := r.Event
		k, inst := machineOf(e)
		s, ok := runs[k]
		if !ok {
			s = &seen{states: map[string]bool{}, edges: map[[2]string][]string{}}
			runs[k] = s
			kinds = append(kinds, k)
		}
		s.states[e.FromState()], s.states[e.ToState()] = true, true
		tr := [2]string{e.FromState(), e.ToState()}
		if s.edges[tr] == nil {
			s.order = append(s.order, tr)
		}
		s.edges[tr] = append(s.edges[tr], fmt.Sprintf("%.3fs %s", r.T.Seconds(), inst))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "digraph states {\n  graph [label=%s, labelloc=t, fontname=\"Helvetica\", fontsize=16, rankdir=TB, compound=true];\n", q(node+": IKE states"))
	b.WriteString("  legend [shape=plaintext, style=\"\", fontcolor=\"#4a5568\", label=\"filled: states this run went through\\nbold: transitions it made, with when\"];\n")
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=11, shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=\"#a0aec0\", fontcolor=\"#718096\"];\n  edge [fontname=\"Helvetica\", fontsize=9, color=\"#cbd5e0\", fontcolor=\"#4a5568\"];\n")
	all := machines
	for _, k := range kinds { // a machine the table does not know
		known := false
		for _, m := range machines {
			known = known || m.name == k
		}
		if !known {
			all = append(all, machine{name: k})
		}
	}
	for mi, m := range all {
		s := runs[m.name]
		if s == nil {
			s = &seen{states: map[string]bool{}, edges: map[[2]string][]string{}}
		}
		states := append([]string(nil), m.states...)
		edges := append([][2]string(nil), m.transitions...)
		for _, e := range s.order {
			if !containsEdge(edges, e) {
				edges = append(edges, e)
			}
			for _, st := range e {
				if !contains(states, st) {
					states = append(states, st)
				}
			}
		}
		id := func(st string) string { return fmt.Sprintf("m%d_%s", mi, st) }
		fmt.Fprintf(&b, "  subgraph cluster_%d {\n    label=%s; fontname=\"Helvetica\"; fontsize=13; color=\"#cbd5e0\";\n", mi, q(m.name))
		for _, st := range states {
			attrs := ""
			class := "state"
			if s.states[st] {
				attrs = `, fillcolor="#e9d8fd", color="#6b46c1", fontcolor="#44337a", penwidth=1.6`
				class += " seen"
			}
			fmt.Fprintf(&b, "    %s [id=%s, class=%s, label=%s, tooltip=%s%s];\n", id(st), q("state-"+m.name+"-"+st), q(class), q(st), q(m.name+" "+st), attrs)
		}
		for _, e := range edges {
			times := s.edges[e]
			attrs := ""
			class := "transition"
			if len(times) > 0 {
				label := times
				if len(label) > 3 {
					label = append(label[:3:3], fmt.Sprintf("(%d more)", len(times)-3))
				}
				attrs = fmt.Sprintf(", color=\"#6b46c1\", penwidth=2, fontcolor=\"#44337a\", label=%s, tooltip=%s", lines(label...), q(strings.Join(times, "; ")))
				class += " seen"
			}
			fmt.Fprintf(&b, "    %s -> %s [id=%s, class=%s%s];\n", id(e[0]), id(e[1]), q(fmt.Sprintf("t-%s-%s-%s", m.name, e[0], e[1])), q(class), attrs)
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	return []byte(b.String()), nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsEdge(s [][2]string, v [2]string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// The topology and states views, as DOT and (laid out by Input.LayoutDOT) as SVG.
func init() {
	views := map[string]func(in *render.Input) ([]byte, error){
		"topology": func(in *render.Input) ([]byte, error) {
			if in.Trace == nil {
				return nil, errors.New("graph: the topology view draws a trace, and there is none")
			}
			name := in.Name
			if name == "" {
				name = in.Title
			}
			return TopologyDOT(render.TopologyOf(in.Trace, name)), nil
		},
		"states": func(in *render.Input) ([]byte, error) {
			ns := States(in.Diagram)
			if len(ns) == 0 {
				return nil, render.InputErrorf("graph: no node of this trace changes state, so the states view has nothing to draw")
			}
			n := in.Node
			if n == "" {
				n = ns[0]
			}
			return StatesDOT(in.Diagram, n)
		},
	}
	for view, dotOf := range views {
		render.Register(render.Format{View: view, Name: "dot", Exts: []string{".dot", ".gv"},
			Renderer: render.RenderFunc(func(in *render.Input, w io.Writer) ([]string, error) {
				dot, err := dotOf(in)
				if err != nil {
					return nil, err
				}
				_, err = w.Write(dot)
				return nil, err
			})})
		render.Register(render.Format{View: view, Name: "svg", Exts: []string{".svg"},
			Renderer: render.RenderFunc(func(in *render.Input, w io.Writer) ([]string, error) {
				dot, err := dotOf(in)
				if err != nil {
					return nil, err
				}
				if in.LayoutDOT == nil {
					return nil, errors.New("graph: no layout for graph views (ikesim-graph lays them out)")
				}
				return nil, in.LayoutDOT(dot, w)
			})})
	}
}
