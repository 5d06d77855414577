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
		var prefixes []netip.Prefix
		for _, a := range append([]string{n.Address}, n.Addresses...) {
			if a == "" {
				continue
			}
			p, _ := parsePrefix(a)
			prefixes = append(prefixes, p)
		}
		nd, err := net.AddNode(n.Name, kind, prefixes...)
		if err != nil {
			return fail("%v", err)
		}
		nd.NATOutside = -1
		if n.NAT != nil {
			nd.NATTimeout = n.NAT.Timeout.D()
			if n.NAT.Outside != "" {
				for i, p := range prefixes {
					if p.Addr().String() == n.NAT.Outside {
						nd.NATOutside = i
					}
				}
			}
		}
	}
	for _, l := range f.Topology.Links {
		_, err := net.Connect(l.Between[0], l.Between[1], netip.Addr{}, netip.Addr{}, sim.LinkParams{
			Delay: l.Delay.D(), Jitter: l.Jitter.D(), Loss: float64(l.Loss), Duplicate: float64(l.Duplicate),
			Reorder: float64(l.Reorder), Corrupt: float64(l.Corrupt), MTU: l.MTU})
		if err != nil {
			return fail("%v", err)
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
	for i := range f.Timeline {
		st := f.Timeline[i]
		if st.At.D() > last {
			last = st.At.D()
		}
		sm.After(st.At.D(), func() { r.step(&st) })
	}
	r.Duration = f.Duration.D()
	if r.Duration == 0 {
		r.Duration = last + 30*time.Second
	}
	net.Start()
	// Connections with start_action start come up at time zero.
	for _, nd := range net.Nodes {
		for _, cn := range sortedKeys(f.Connections[nd.Name]) {
			spec := f.Connections[nd.Name][cn]
			for _, chn := range sortedKeys(spec.Children) {
				if spec.Children[chn] != nil && ike.StartAction(spec.Children[chn].StartAction) == ike.StartStart {
					nd, cn, chn := nd, cn, chn
					sm.After(0, func() { r.do(nd.Name, nd.IKE.Initiate(cn, chn)) })
				}
			}
		}
	}
	return r, nil
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

func (r *Run) info(text string) {
	r.Sim.Trace.Emit(&trace.Event{T: trace.Seconds(r.Sim.Now()), Kind: trace.KindInfo, Text: text})
}

func (r *Run) do(node string, err error) {
	if err != nil {
		r.Sim.Trace.Emit(&trace.Event{T: trace.Seconds(r.Sim.Now()), Kind: trace.KindError, Node: node, Text: err.Error(),
			Failure: &trace.Failure{Reason: ike.FailConfig}})
	}
}

// connName resolves the connection of a step: named, the only one, or the one with the child.
func (r *Run) connName(node, conn, child string) string {
	if conn != "" {
		return conn
	}
	conns := r.Scenario.File.Connections[node]
	for _, name := range sortedKeys(conns) {
		if child == "" || conns[name].Children[child] != nil {
			return name
		}
	}
	return ""
}

func (r *Run) step(st *Step) {
	n := r.Net
	switch {
	case st.Ping != nil:
		p := st.Ping
		dst, err := netip.ParseAddr(p.To)
		if err != nil {
			dst = n.Node(p.To).Addr()
		}
		r.info(fmt.Sprintf("timeline: %s pings %s (%d × every %s)", p.From, dst, max(p.Count, 1), pingInterval(p.Interval.D())))
		_, err = n.Ping(p.From, dst, p.Count, p.Interval.D())
		r.do(p.From, err)
	case st.Initiate != nil:
		c := st.Initiate
		r.info(fmt.Sprintf("timeline: %s initiates %s", c.Node, describeRef(c)))
		r.do(c.Node, n.Node(c.Node).IKE.Initiate(r.connName(c.Node, c.Connection, c.Child), c.Child))
	case st.Rekey != nil:
		c := st.Rekey
		r.info(fmt.Sprintf("timeline: %s rekeys %s", c.Node, describeRef(c)))
		r.do(c.Node, n.Node(c.Node).IKE.Rekey(r.connName(c.Node, c.Connection, c.Child), c.Child))
	case st.Delete != nil:
		c := st.Delete
		r.info(fmt.Sprintf("timeline: %s deletes %s", c.Node, describeRef(c)))
		r.do(c.Node, n.Node(c.Node).IKE.Delete(r.connName(c.Node, c.Connection, c.Child), c.Child))
	case st.Liveness != nil:
		c := st.Liveness
		r.info(fmt.Sprintf("timeline: %s checks the liveness of its peer on %s", c.Node, describeRef(c)))
		r.do(c.Node, n.Node(c.Node).IKE.Liveness(r.connName(c.Node, c.Connection, "")))
	case st.SetPSK != nil:
		c := st.SetPSK
		r.info(fmt.Sprintf("timeline: %s changes its pre-shared key", c.Node))
		r.do(c.Node, n.Node(c.Node).IKE.SetPSK(r.connName(c.Node, c.Connection, ""), []byte(c.Secret)))
	case st.Link != nil:
		r.do("", n.SetLink(st.Link.Between[0], st.Link.Between[1], st.Link.State == "up"))
	case st.Restart != nil:
		r.info(fmt.Sprintf("timeline: %s restarts (all its SAs are lost)", st.Restart.Node))
		r.do(st.Restart.Node, n.Restart(st.Restart.Node))
	}
}

func describeRef(c *ConnStep) string {
	s := c.Connection
	if c.Child != "" {
		if s != "" {
			s += "/"
		}
		s += c.Child
	}
	if s == "" {
		s = "its connection"
	}
	return s
}

// pingInterval is a ping step's interval: one second unless the step says otherwise.
func pingInterval(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Second
	}
	return d
}
