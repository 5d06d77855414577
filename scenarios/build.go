package scenarios

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// Run is a scenario built into a simulated network, ready to run.
type Run struct {
	Scenario *Scenario
	Seed     uint64
	Sim      *sim.Sim
	Net      *sim.Network
	Duration time.Duration
}

// Build makes the network of a scenario with the given seed.
func Build(s *Scenario, seed uint64) (*Run, error) {
	f := s.File
	sm := sim.New(seed)
	net := sim.NewNetwork(sm)
	fail := func(format string, args ...any) (*Run, error) {
		return nil, fmt.Errorf("scenario %s: "+format, append([]any{s.Path}, args...)...)
	}
	for _, n := range f.Topology.Nodes {
		kind, _ := nodeKind(n.Kind)
		ifaces := n.Interfaces()
		var first []netip.Prefix
		for _, ifc := range ifaces {
			first = append(first, ifc[0])
		}
		nd, err := net.AddNode(n.Name, kind, first...)
		if err != nil {
			return fail("%v", err)
		}
		for i, ifc := range ifaces {
			for _, p := range ifc[1:] { // dual stack
				if err := nd.AddAddr(i, p); err != nil {
					return fail("%v", err)
				}
			}
		}
		nd.NATOutside, nd.Group = -1, n.Group
		if n.NAT != nil {
			nd.NATTimeout = n.NAT.Timeout.D()
			if n.NAT.Outside != "" {
				for i, ifc := range ifaces {
					for _, p := range ifc {
						if p.Addr().String() == n.NAT.Outside {
							nd.NATOutside = i
						}
					}
				}
			}
		}
	}
	for _, l := range f.Topology.Links {
		if _, err := net.Connect(l.Between[0], l.Between[1], netip.Addr{}, netip.Addr{}, l.params()); err != nil {
			return fail("%v", err)
		}
	}
	for _, sp := range f.Topology.Segments {
		seg, err := net.AddSegment(sp.Name, sp.params())
		if err != nil {
			return fail("%v", err)
		}
		within, _ := netip.ParsePrefix(sp.Prefix)
		for _, name := range f.members(sp.Nodes) {
			if _, err := seg.Join(net.Node(name), within.Masked()); err != nil {
				return fail("%v", err)
			}
		}
	}
	v := newValidator(s)
	for _, nodeName := range sortedKeys(f.Connections) {
		nd := net.Node(nodeName)
		mkDaemon := func() (ike.Daemon, error) {
			conns, err := v.nodeConnections(nodeName)
			if err != nil {
				return nil, err
			}
			return NewDaemon(nd.Env(), nodeName, conns)
		}
		d, err := mkDaemon()
		if err != nil {
			return fail("%v", err)
		}
		nd.IKE = d
		nd.Reboot = mkDaemon
		for _, c := range sortedKeys(f.Connections[nodeName]) {
			spec := f.Connections[nodeName][c]
			nd.Conns = append(nd.Conns, trace.Conn{Name: c, Remote: spec.RemoteAddrs, Proposals: spec.Proposals})
		}
	}
	for _, ft := range f.Faults {
		rule, err := faultOf(ft)
		if err != nil {
			return fail("%v", err)
		}
		net.Faults = append(net.Faults, rule)
	}
	r := &Run{Scenario: s, Seed: seed, Sim: sm, Net: net}
	last := time.Duration(0)
	for _, st := range f.Timeline {
		last = max(last, st.At.D())
	}
	r.Duration = f.Duration.D()
	if r.Duration == 0 {
		r.Duration = last + 30*time.Second
	}
	s.RunTimeline(r)
	net.Start()
	return r, nil
}

// params are the simulator's impairments of a link or segment.
func (l LinkModel) params() sim.LinkParams {
	return sim.LinkParams{Delay: l.Delay.D(), Jitter: l.Jitter.D(), Loss: float64(l.Loss), Duplicate: float64(l.Duplicate),
		Reorder: float64(l.Reorder), Corrupt: float64(l.Corrupt), MTU: l.MTU}
}

// members lists the nodes that names stand for: a node, or every member of a group.
func (f *File) members(names []string) []string {
	var out []string
	for _, name := range names {
		if g := f.Group(name); g != nil {
			out = append(out, g.Nodes...)
			continue
		}
		out = append(out, name)
	}
	return out
}

// Group returns the group of that name, or nil.
func (f *File) Group(name string) *GroupSpec {
	for i := range f.Groups {
		if f.Groups[i].Name == name {
			return &f.Groups[i]
		}
	}
	return nil
}

// A Run is the Target of its scenario's timeline: every step runs on the virtual clock.
var _ Target = (*Run)(nil)

// Plays reports true: a simulated run plays every node and the network.
func (r *Run) Plays(string) bool { return true }

// After schedules f on the virtual clock.
func (r *Run) After(d time.Duration, f func()) { r.Sim.After(d, f) }

// Daemon is node's IKE daemon.
func (r *Run) Daemon(node string) ike.Daemon { return r.Net.Node(node).IKE }

// PingTarget is an address, or a node's address.
func (r *Run) PingTarget(_, to string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(to); err == nil {
		return a, nil
	}
	nd := r.Net.Node(to)
	if nd == nil {
		return netip.Addr{}, fmt.Errorf("scenario: ping to unknown node %q", to)
	}
	return nd.Addr(), nil
}

// Ping starts a ping on the network, from src when it is set.
func (r *Run) Ping(from string, src, dst netip.Addr, count int, interval time.Duration) error {
	_, err := r.Net.PingFrom(from, src, dst, count, interval)
	return err
}

// SetLink takes a link down or up.
func (r *Run) SetLink(a, b string, up bool) error { return r.Net.SetLink(a, b, up) }

// Restart powers a node off and on.
func (r *Run) Restart(node string) error { return r.Net.Restart(node) }

// Note records a timeline step as the scenario's.
func (r *Run) Note(text string) {
	r.Sim.Trace.Emit(&trace.Event{T: trace.Seconds(r.Sim.Now()), Kind: trace.KindInfo, Node: trace.ScenarioNode, Text: text})
}

// Fail records a step that failed, on its node.
func (r *Run) Fail(node string, err error) {
	r.Sim.Trace.Emit(&trace.Event{T: trace.Seconds(r.Sim.Now()), Kind: trace.KindError, Node: node, Text: err.Error(),
		Failure: &trace.Failure{Reason: ike.FailConfig}})
}

// Execute runs the simulation to its end.
func (r *Run) Execute() {
	r.Sim.Run(r.Duration)
	for _, nd := range r.Net.Nodes {
		if nd.IKE != nil {
			nd.IKE.Close()
		}
	}
}
