package scenarios

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// The timeline runs through one runner, on the virtual clock of a simulated network
// (Build) and on the wall clock of a live node (ikesim live): a Target says which steps
// it plays and carries them out.

// Target is what a scenario's timeline acts on.
type Target interface {
	// Plays reports whether the steps of node run here; node "" stands for the
	// network's own steps (links, restarts).
	Plays(node string) bool
	// After runs f d after the start, on the target's event loop.
	After(d time.Duration, f func())
	// Daemon is node's IKE daemon now (a restart replaces it).
	Daemon(node string) ike.Daemon
	// PingTarget resolves a ping step's destination: an address, or a node.
	PingTarget(from, to string) (netip.Addr, error)
	// Ping sends count echo requests from node from to dst, one every interval, from
	// the address src when it is valid (the step's source).
	Ping(from string, src, dst netip.Addr, count int, interval time.Duration) error
	// SetLink takes a link down or brings it up; Restart powers a node off and on.
	SetLink(a, b string, up bool) error
	Restart(node string) error
	// Note records a timeline step, for people; Fail records a step that failed.
	Note(text string)
	Fail(node string, err error)
}

// RunTimeline arms every timeline step the target plays, then the initiation of every
// child with start_action start, at time zero.
func (s *Scenario) RunTimeline(t Target) {
	f := s.File
	for i := range f.Timeline {
		st := &f.Timeline[i]
		if t.Plays(st.node()) {
			t.After(st.At.D(), func() { s.step(t, st) })
		}
	}
	for _, node := range s.nodeNames() {
		if !t.Plays(node) {
			continue
		}
		for _, cn := range sortedKeys(f.Connections[node]) {
			spec := f.Connections[node][cn]
			for _, chn := range sortedKeys(spec.Children) {
				if spec.Children[chn] != nil && ike.StartAction(spec.Children[chn].StartAction) == ike.StartStart {
					t.After(0, func() { failed(t, node, t.Daemon(node).Initiate(cn, chn)) })
				}
			}
		}
	}
}

// nodeNames lists the scenario's nodes in the order of the file.
func (s *Scenario) nodeNames() []string {
	var out []string
	for _, n := range s.File.Topology.Nodes {
		out = append(out, n.Name)
	}
	return out
}

// node is the node a step belongs to ("" for the network's own steps).
func (st *Step) node() string {
	for _, c := range []*ConnStep{st.Initiate, st.Rekey, st.Delete, st.Liveness} {
		if c != nil {
			return c.Node
		}
	}
	switch {
	case st.Ping != nil:
		return st.Ping.From
	case st.SetPSK != nil:
		return st.SetPSK.Node
	}
	return ""
}

func failed(t Target, node string, err error) {
	if err != nil {
		t.Fail(node, err)
	}
}

// step carries out one timeline step.
func (s *Scenario) step(t Target, st *Step) {
	switch {
	case st.Ping != nil:
		p := st.Ping
		dst, err := t.PingTarget(p.From, p.To)
		if err != nil {
			t.Fail(p.From, err)
			return
		}
		t.Note(fmt.Sprintf("timeline: %s pings %s (%d × every %s)", p.From, dst, max(p.Count, 1), pingInterval(p.Interval.D())))
		src, _ := netip.ParseAddr(p.Source) // checked by the loader; none is the default
		failed(t, p.From, t.Ping(p.From, src, dst, p.Count, p.Interval.D()))
	case st.Initiate != nil || st.Rekey != nil || st.Delete != nil || st.Liveness != nil:
		for _, op := range []struct {
			c    *ConnStep
			verb string
			do   func(d ike.Daemon, conn, child string) error
		}{
			{st.Initiate, "initiates", ike.Daemon.Initiate},
			{st.Rekey, "rekeys", ike.Daemon.Rekey},
			{st.Delete, "deletes", ike.Daemon.Delete},
			{st.Liveness, "checks the liveness of its peer on", func(d ike.Daemon, conn, _ string) error { return d.Liveness(conn) }},
		} {
			if c := op.c; c != nil {
				child := c.Child
				if st.Liveness != nil {
					child = "" // a liveness check is the IKE SA's
				}
				t.Note(fmt.Sprintf("timeline: %s %s %s", c.Node, op.verb, describeRef(c)))
				failed(t, c.Node, op.do(t.Daemon(c.Node), s.connName(c.Node, c.Connection, child), c.Child))
			}
		}
	case st.SetPSK != nil:
		c := st.SetPSK
		t.Note(fmt.Sprintf("timeline: %s changes its pre-shared key", c.Node))
		failed(t, c.Node, t.Daemon(c.Node).SetPSK(s.connName(c.Node, c.Connection, ""), []byte(c.Secret)))
	case st.Link != nil:
		failed(t, "", t.SetLink(st.Link.Between[0], st.Link.Between[1], st.Link.State == "up"))
	case st.Restart != nil:
		t.Note(fmt.Sprintf("timeline: %s restarts (all its SAs are lost)", st.Restart.Node))
		failed(t, st.Restart.Node, t.Restart(st.Restart.Node))
	}
}

// connName resolves the connection of a step: named, the only one, or the one with the
// child.
func (s *Scenario) connName(node, conn, child string) string {
	if conn != "" {
		return conn
	}
	conns := s.File.Connections[node]
	for _, name := range sortedKeys(conns) {
		if child == "" || conns[name].Children[child] != nil {
			return name
		}
	}
	return ""
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
