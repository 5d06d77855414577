package render

import (
	"fmt"
	"path"
	"slices"

	"github.com/ikesim/ikesim/sim/trace"
)

// Lanes of large runs: a pattern picks nodes by name, and a group of similar nodes can
// be folded into one lane named after it. Both read the trace's topology events.

// TraceNodes are the nodes of a trace in the order of their topology events, and the
// group of each member of a group.
func TraceNodes(tr *trace.Trace) (nodes []string, group map[string]string) {
	group = map[string]string{}
	for _, e := range tr.Events {
		if e.Kind != trace.KindTopology {
			continue
		}
		nodes = append(nodes, e.Node)
		if e.Topology != nil && e.Topology.Group != "" {
			group[e.Node] = e.Topology.Group
		}
	}
	return nodes, group
}

// SelectLanes fills o.Nodes from patterns, in the order of the trace's nodes: each
// pattern is a node name, a shell pattern (path.Match: rw-1*, rw-?) or a group's name
// for all its members; with fold, the groups named in folds are drawn as one lane
// each, named after the group. A pattern that matches nothing is an error.
func SelectLanes(tr *trace.Trace, o *Options, patterns, folds []string) error {
	nodes, group := TraceNodes(tr)
	groups := map[string]bool{}
	for _, g := range group {
		groups[g] = true
	}
	for _, f := range folds {
		if !groups[f] {
			return fmt.Errorf("render: no group %q in the trace to fold%s", f, groupList(groups))
		}
	}
	if len(folds) > 0 {
		o.Fold = map[string]string{}
		for n, g := range group {
			if slices.Contains(folds, g) {
				o.Fold[n] = g
			}
		}
	}
	if len(patterns) == 0 {
		return nil
	}
	picked := map[string]bool{}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("render: bad node pattern %q: %v", p, err)
		}
		found := false
		for _, n := range nodes {
			if ok, _ := path.Match(p, n); ok || group[n] == p {
				picked[n], found = true, true
			}
		}
		if !found {
			return fmt.Errorf("render: no node matches %q", p)
		}
	}
	o.Nodes = nil
	for _, n := range nodes {
		if !picked[n] {
			continue
		}
		lane := n
		if f, ok := o.Fold[n]; ok {
			lane = f
		}
		if !slices.Contains(o.Nodes, lane) {
			o.Nodes = append(o.Nodes, lane)
		}
	}
	return nil
}

func groupList(groups map[string]bool) string {
	if len(groups) == 0 {
		return " (it has none)"
	}
	var names []string
	for g := range groups {
		names = append(names, g)
	}
	slices.Sort(names)
	return fmt.Sprintf(" (groups: %v)", names)
}
