package render

import (
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/sim/trace"
)

// The node panes of the terminal walkthrough and the web player: what each node holds
// as of a step, replayed from the trace's typed facts.

// NodeView is what a node pane shows of one node from event Seq on, line by line: its
// IKE and Child SAs (those still being negotiated too), its SPD and its SAD.
type NodeView struct {
	Seq   int      `json:"seq"`
	Lines []string `json:"lines"`
}

// NodeLines is what the node pane shows of each node as of event upTo; a node the
// trace has said nothing of yet has none.
func NodeLines(tr *trace.Trace, upTo int) map[string][]string {
	r := newNodeReplay()
	for _, e := range tr.Events {
		if e.Seq > upTo {
			break
		}
		r.apply(e)
	}
	out := map[string][]string{}
	for name, n := range r.nodes {
		out[name] = n.lines()
	}
	return out
}

// NodeViews replays the whole trace once and returns each node's view every time it
// changes, in the order of the events.
func NodeViews(tr *trace.Trace) map[string][]NodeView {
	r := newNodeReplay()
	out := map[string][]NodeView{}
	for _, e := range tr.Events {
		node := r.apply(e)
		if node == "" {
			continue
		}
		lines := r.nodes[node].lines()
		if vs := out[node]; len(vs) > 0 && slices.Equal(vs[len(vs)-1].Lines, lines) {
			continue
		}
		out[node] = append(out[node], NodeView{Seq: e.Seq, Lines: lines})
	}
	return out
}

// NodeViewAt is the lines of views (one node's NodeViews) as of event upTo; nil
// before the first.
func NodeViewAt(views []NodeView, upTo int) []string {
	i := sort.Search(len(views), func(i int) bool { return views[i].Seq > upTo })
	if i == 0 {
		return nil
	}
	return views[i-1].Lines
}

// nodeReplay is what the node panes know of every node as of an event.
type nodeReplay struct {
	nodes map[string]*nodeState
}

// nodeState is what a node pane knows of one node: its SPD (its latest topology
// event's, as the run starts or the node restarts, then the entries each Child SA
// added), and its IKE and Child SAs by instance, from their state changes
// (negotiating) and their SA records (established).
type nodeState struct {
	spd   []trace.Policy
	sas   map[string]*saState
	order []string // instances in the order they first appeared
}

type saState struct {
	typ      ike.SAType
	machine  string // the state machine's name, while no SA record has come
	state    string
	rec      *trace.SARecord
	upAt     trace.Seconds
	instance string
}

// endStates are the states after which a state machine is gone: strongSwan's DESTROYED,
// Cisco's IKE_DEST_SA for an ISAKMP SA, and the end of a quick mode, whose IPsec SAs then
// stand on their own.
var endStates = map[string]bool{"DESTROYED": true, "IKE_DEST_SA": true, "IKE_QM_PHASE2_COMPLETE": true}

func newNodeReplay() *nodeReplay { return &nodeReplay{nodes: map[string]*nodeState{}} }

func (r *nodeReplay) get(n string) *nodeState {
	if r.nodes[n] == nil {
		r.nodes[n] = &nodeState{sas: map[string]*saState{}}
	}
	return r.nodes[n]
}

// apply takes in one event and returns the node it may have changed, or "".
func (r *nodeReplay) apply(e *trace.Event) string {
	switch {
	case e.Kind == trace.KindTopology && e.Topology != nil:
		// The node as the run starts, or as it restarts: no SA, its trap policies.
		r.nodes[e.Node] = nil
		r.get(e.Node).spd = append([]trace.Policy(nil), e.Topology.SPD...)
	case e.Kind == trace.KindState && e.SAType() != "":
		n := r.get(e.Node)
		key := string(e.SAType()) + "|" + e.Instance()
		if e.Instance() == "" {
			key = string(e.SAType()) + "|" + e.Machine()
		}
		if endStates[e.ToState()] {
			n.remove(key)
			break
		}
		n.put(key, &saState{typ: e.SAType(), machine: e.Machine()}).state = e.ToState()
	case e.Kind == trace.KindSA && e.SA != nil:
		n := r.get(e.Node)
		s := e.SA
		key := string(s.Type) + "|" + s.Instance
		if s.Instance == "" {
			key = string(s.Type) + "|" + s.SPIi + s.SPIr + s.SPIIn
		}
		if e.Op != trace.OpUp {
			n.remove(key)
			n.spd = slices.DeleteFunc(n.spd, func(p trace.Policy) bool { return slices.Contains(s.Policies, p) })
			break
		}
		st := n.put(key, &saState{typ: s.Type})
		st.rec, st.upAt, st.instance = s, e.T, s.Instance
		n.spd = append(n.spd, s.Policies...)
	default:
		return ""
	}
	return e.Node
}

// put returns the SA of key, adding s as it when there is none.
func (n *nodeState) put(key string, s *saState) *saState {
	if old := n.sas[key]; old != nil {
		return old
	}
	n.sas[key] = s
	n.order = append(n.order, key)
	return s
}

func (n *nodeState) remove(key string) {
	delete(n.sas, key)
	n.order = slices.DeleteFunc(n.order, func(k string) bool { return k == key })
}

// instanceOf names an SA in the node pane: its instance, or for a trace without
// instances its connection's child.
func instanceOf(st *saState) string {
	switch {
	case st.instance != "":
		return st.instance
	case st.rec.Child != "":
		return st.rec.Child
	}
	return st.rec.Conn
}

// lines says what the node holds: IKE SAs first, then Child SAs, each in the order
// they appeared, then the SPD and the SAD.
func (n *nodeState) lines() []string {
	var out, sad []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, typ := range []ike.SAType{ike.SATypeIKE, ike.SATypeChild} {
		for _, k := range n.order {
			st := n.sas[k]
			if st.typ != typ {
				continue
			}
			s := st.rec
			if s == nil {
				add("  %s  %s (negotiating)", st.machine, st.state)
				continue
			}
			state := ""
			if st.state != "" {
				state = "  " + st.state
			}
			if typ == ike.SATypeIKE {
				what := "IKE SA"
				if s.Version == 1 {
					what = "ISAKMP SA"
				}
				add("  %s %s%s  SPIi %s SPIr %s  %s  up since %s", what, instanceOf(st), state, s.SPIi, s.SPIr, s.Proposal, st.upAt)
				if len(s.SKei) > 0 {
					add("    SK_ei %s  SK_er %s", hex.EncodeToString(s.SKei), hex.EncodeToString(s.SKer))
				}
				if len(s.SKai) > 0 {
					add("    SK_ai %s  SK_ar %s", hex.EncodeToString(s.SKai), hex.EncodeToString(s.SKar))
				}
				if len(s.EncKey) > 0 {
					add("    encryption key %s", hex.EncodeToString(s.EncKey))
				}
				continue
			}
			proto := strings.ToUpper(s.Protocol)
			if proto == "" {
				proto = "ESP"
			}
			life := ""
			if s.LifeTime > 0 {
				life = fmt.Sprintf(", lifetime %s", s.LifeTime)
			}
			add("  Child SA %s/%s%s  %s %s %s  SPI in 0x%s out 0x%s%s", s.Conn, instanceOf(st), state, proto, s.Mode,
				s.Proposal, s.SPIIn, s.SPIOut, life)
			add("    %s ↔ %s", strings.Join(s.LocalTS, ","), strings.Join(s.RemoteTS, ","))
			add("    keys in  %s %s", hex.EncodeToString(s.EncrKeyIn), hex.EncodeToString(s.IntegKeyIn))
			add("    keys out %s %s", hex.EncodeToString(s.EncrKeyOut), hex.EncodeToString(s.IntegKeyOut))
			encap := ""
			if s.Encap {
				encap = " (UDP-encapsulated)"
			}
			sad = append(sad, fmt.Sprintf("    in  %s SPI 0x%s %s → %s%s", proto, s.SPIIn, s.Remote, s.Local, encap),
				fmt.Sprintf("    out %s SPI 0x%s %s → %s%s", proto, s.SPIOut, s.Local, s.Remote, encap))
		}
	}
	if len(out) == 0 {
		out = append(out, "  no SAs")
	}
	if len(n.spd) > 0 {
		out = append(out, "  SPD:")
		for _, p := range n.spd {
			l := fmt.Sprintf("    %-3s %s → %s %s", p.Dir, p.Src, p.Dst, p.Action)
			if p.Action == "protect" {
				l += fmt.Sprintf(" reqid %d", p.ReqID)
			}
			out = append(out, l+" ("+p.Name+")")
		}
	}
	if len(sad) > 0 {
		out = append(append(out, "  SAD:"), sad...)
	}
	return out
}
