package scenarios

import (
	"fmt"
	"strings"

	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// Result is the verdict on one expectation.
type Result struct {
	Says   string // the sentence the student reads
	Check  string // what was checked, in short
	Pass   bool
	Seen   string // what the run showed
	Expect *Expect
}

// Grade checks every expectation of the scenario against a trace and the final state
// of the network (net may be nil when grading a saved trace: pings then come from the
// trace alone).
func Grade(s *Scenario, tr *trace.Trace, net *sim.Network) []Result {
	var out []Result
	for i := range s.File.Expect {
		out = append(out, gradeOne(s, &s.File.Expect[i], tr, net))
	}
	return out
}

// Passed reports whether every result passed.
func Passed(rs []Result) bool {
	for _, r := range rs {
		if !r.Pass {
			return false
		}
	}
	return true
}

func gradeOne(s *Scenario, e *Expect, tr *trace.Trace, net *sim.Network) Result {
	r := Result{Says: e.Says, Expect: e}
	ev := tr.Events
	switch {
	case e.IKESA != nil:
		a, b := e.IKESA.Between[0], e.IKESA.Between[1]
		upA, upB := ikeUp(ev, a, s.localIDs(b)), ikeUp(ev, b, s.localIDs(a))
		want := e.IKESA.State
		if want == "" {
			want = "established"
		}
		r.Check = fmt.Sprintf("IKE SA %s ↔ %s %s", a, b, want)
		if want == "established" {
			r.Pass = upA > 0 && upB > 0
			r.Seen = fmt.Sprintf("IKE SAs established: %s %d, %s %d", a, upA, b, upB)
			break
		}
		notify := e.IKESA.Notify
		if notify != "" {
			r.Check += " with " + notify
		}
		errs := append(errorsOn(ev, a, s.connsTo(a, b)), errorsOn(ev, b, s.connsTo(b, a))...)
		found := notify == "" && len(errs) > 0
		for _, t := range errs {
			if notify != "" && strings.Contains(t, notify) {
				found = true
			}
		}
		r.Pass = upA == 0 && upB == 0 && found
		r.Seen = fmt.Sprintf("IKE SAs established: %s %d, %s %d", a, upA, b, upB)
		if len(errs) > 0 {
			r.Seen += "; errors: " + errs[0]
		}
	case e.ChildSAs != nil:
		n := 0
		for _, x := range ev {
			if x.Kind == trace.KindSA && x.Op == "up" && x.SA != nil && x.SA.Type == "child" && x.Node == e.ChildSAs.Node {
				n++
			}
		}
		r.Check = fmt.Sprintf("%d Child SA(s) on %s", e.ChildSAs.Count, e.ChildSAs.Node)
		r.Pass = n == e.ChildSAs.Count
		r.Seen = fmt.Sprintf("%d Child SA(s) came up on %s", n, e.ChildSAs.Node)
	case e.Pings != nil:
		answered, sent := 0, 0
		if net != nil {
			for _, p := range net.Pings {
				if p.From == e.Pings.From {
					answered += p.Answered
					sent += p.Count
				}
			}
		} else {
			for _, x := range ev {
				if x.Node == e.Pings.From && x.Kind == trace.KindAction && strings.HasPrefix(x.Text, "ping ") {
					if strings.Contains(x.Text, "echo reply") && !strings.Contains(x.Text, "duplicate") {
						answered++
					} else if strings.Contains(x.Text, "send ICMP echo request") {
						sent++
					}
				}
			}
		}
		of := e.Pings.Of
		if of == 0 {
			of = sent
		}
		r.Check = fmt.Sprintf("%d of %d pings from %s answered", e.Pings.Answered, of, e.Pings.From)
		r.Pass = answered == e.Pings.Answered && sent == of
		r.Seen = fmt.Sprintf("%d of %d answered", answered, sent)
	case e.Message != nil:
		m := e.Message
		n := 0
		for _, x := range ev {
			if x.Kind != trace.KindMessage || (m.Exchange != "" && x.Exchange != m.Exchange) ||
				(m.Proto != "" && x.Proto != m.Proto) || (m.From != "" && (x.From != m.From || x.Forwarded)) ||
				(m.Notify != "" && !strings.Contains(x.Summary, "N("+m.Notify+")")) {
				continue
			}
			n++
		}
		what := strings.TrimSpace(strings.Join([]string{m.Proto, m.Exchange, notifyText(m.Notify)}, " "))
		if m.From != "" {
			what += " from " + m.From
		}
		want := max(m.Count, 1)
		if m.Absent {
			r.Check = "no " + what + " message"
			r.Pass = n == 0
		} else {
			r.Check = fmt.Sprintf("at least %d %s message(s)", want, what)
			r.Pass = n >= want
		}
		r.Seen = fmt.Sprintf("%d such message(s)", n)
	case e.State != nil:
		r.Check = fmt.Sprintf("%s reaches state %s", e.State.Node, e.State.State)
		var last string
		for _, x := range ev {
			if x.Kind == trace.KindState && x.Node == e.State.Node {
				last = x.Machine + " → " + x.ToState
				if strings.EqualFold(x.ToState, e.State.State) {
					r.Pass = true
				}
			}
		}
		r.Seen = "last state change: " + last
		if last == "" {
			r.Seen = "no state changes"
		}
	case e.Dropped != nil:
		d := e.Dropped
		r.Check = fmt.Sprintf("a packet dropped for %q", d.Reason)
		n := 0
		var first string
		for _, x := range ev {
			if x.Kind == trace.KindDrop && (d.Node == "" || x.Node == d.Node) {
				if first == "" {
					first = x.Text
				}
				if strings.Contains(x.Text, d.Reason) {
					n++
				}
			}
		}
		r.Pass = n > 0
		r.Seen = fmt.Sprintf("%d matching drop(s)", n)
		if n == 0 && first != "" {
			r.Seen += "; first drop: " + first
		}
	}
	return r
}

func notifyText(n string) string {
	if n == "" {
		return ""
	}
	return "N(" + n + ")"
}

// ikeUp counts the IKE SAs that came up on node with a peer that has one of the ids.
func ikeUp(ev []*trace.Event, node string, peerIDs map[string]bool) int {
	n := 0
	for _, x := range ev {
		if x.Kind == trace.KindSA && x.Op == "up" && x.SA != nil && x.SA.Type == "ike" && x.Node == node && peerIDs[x.SA.Peer] {
			n++
		}
	}
	return n
}

// errorsOn lists node's errors that concern one of the connections.
func errorsOn(ev []*trace.Event, node string, conns []string) []string {
	var out []string
	for _, x := range ev {
		if x.Kind != trace.KindError || x.Node != node {
			continue
		}
		for _, c := range conns {
			if strings.Contains(x.Text, "IKE SA "+c+"[") || strings.Contains(x.Text, "ISAKMP SA "+c+"[") ||
				strings.Contains(x.Text, "connection "+c+" ") ||
				strings.Contains(x.Text, "connection "+c+":") || strings.HasSuffix(x.Text, "connection "+c) {
				out = append(out, x.Node+": "+x.Text)
				break
			}
		}
	}
	return out
}

// localIDs are the identities node uses in its connections.
func (s *Scenario) localIDs(node string) map[string]bool {
	ids := map[string]bool{}
	for _, c := range s.File.Connections[node] {
		if c != nil {
			ids[c.Local.ID] = true
		}
	}
	return ids
}

// connsTo names a's connections toward b: those whose remote identity is one of b's, or
// whose remote address is one of b's addresses.
func (s *Scenario) connsTo(a, b string) []string {
	ids := s.localIDs(b)
	addrs := map[string]bool{}
	for _, n := range s.File.Topology.Nodes {
		if n.Name == b {
			for _, x := range append([]string{n.Address}, n.Addresses...) {
				if p, err := parsePrefix(x); err == nil {
					addrs[p.Addr().String()] = true
				}
			}
		}
	}
	var out []string
	for _, name := range sortedKeys(s.File.Connections[a]) {
		c := s.File.Connections[a][name]
		if c == nil {
			continue
		}
		match := ids[c.Remote.ID]
		for _, r := range c.RemoteAddrs {
			match = match || addrs[r]
		}
		if match {
			out = append(out, name)
		}
	}
	return out
}

// FormatResults prints one line per expectation and a total.
func FormatResults(rs []Result) string {
	var b strings.Builder
	pass := 0
	for _, r := range rs {
		v := "FAIL"
		if r.Pass {
			v = "PASS"
			pass++
		}
		fmt.Fprintf(&b, "%s  %s — %s (seen: %s)\n", v, r.Says, r.Check, r.Seen)
	}
	fmt.Fprintf(&b, "%d passed, %d failed\n", pass, len(rs)-pass)
	return b.String()
}
