package render

import "github.com/ikesim/ikesim/sim/trace"

// Figure is what a figure for a book or an RFC-style document shows: the message flow
// between the chosen lanes, without actions and state changes. With no lanes chosen,
// the lanes are the nodes that exchange IKE messages, in the order they appear.
func Figure(tr *trace.Trace, o Options) Options {
	o.HideActions, o.HideStates = true, true
	if len(o.Nodes) > 0 {
		return o
	}
	seen := map[string]bool{}
	for _, e := range tr.Events {
		if e.Kind != trace.KindMessage || (e.Proto() != "ikev2" && e.Proto() != "ikev1") {
			continue
		}
		for _, n := range []string{e.From(), e.To()} {
			if n != "" && !seen[n] {
				seen[n] = true
				o.Nodes = append(o.Nodes, n)
			}
		}
	}
	return o
}
