package tui

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/rivo/tview"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/sim/trace"
)

// nodeState is what the node pane knows of one node as of the current step, from the
// trace's typed facts: its SPD (its latest topology event's, as the run starts or the
// node restarts, then the entries each Child SA added), and its IKE and Child SAs by instance, from their state changes (negotiating)
// and their SA records (established).
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

// nodeStates replays the trace up to event upTo.
func nodeStates(tr *trace.Trace, upTo int) map[string]*nodeState {
	nodes := map[string]*nodeState{}
	get := func(n string) *nodeState {
		if nodes[n] == nil {
			nodes[n] = &nodeState{sas: map[string]*saState{}}
		}
		return nodes[n]
	}
	for _, e := range tr.Events {
		if e.Seq > upTo {
			break
		}
		switch {
		case e.Kind == trace.KindTopology && e.Topology != nil:
			// The node as the run starts, or as it restarts: no SA, its trap policies.
			nodes[e.Node] = nil
			get(e.Node).spd = append([]trace.Policy(nil), e.Topology.SPD...)
		case e.Kind == trace.KindState && e.SAType != "":
			n := get(e.Node)
			key := string(e.SAType) + "|" + e.Instance
			if e.Instance == "" {
				key = string(e.SAType) + "|" + e.Machine
			}
			if endStates[e.ToState] {
				n.remove(key)
				continue
			}
			n.put(key, &saState{typ: e.SAType, machine: e.Machine}).state = e.ToState
		case e.Kind == trace.KindSA && e.SA != nil:
			n := get(e.Node)
			s := e.SA
			key := string(s.Type) + "|" + s.Instance
			if s.Instance == "" {
				key = string(s.Type) + "|" + s.SPIi + s.SPIr + s.SPIIn
			}
			if e.Op != trace.OpUp {
				n.remove(key)
				continue
			}
			st := n.put(key, &saState{typ: s.Type})
			st.rec, st.upAt, st.instance = s, e.T, s.Instance
			n.spd = append(n.spd, s.Policies...)
		}
	}
	return nodes
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

// showNodes lists, for every node in lane order, its IKE SAs and Child SAs as of the
// current step (those still being negotiated too), and its SPD and SAD.
func (u *UI) showNodes() {
	nodes := nodeStates(u.cfg.Trace, u.curSeq())
	var b strings.Builder
	for _, l := range u.diagram.Lanes {
		fmt.Fprintf(&b, "[::b]%s[::-]\n", tview.Escape(l.Name))
		n := nodes[l.Name]
		if n == nil {
			b.WriteString("  no SAs\n\n")
			continue
		}
		writeNode(&b, n)
		b.WriteString("\n")
	}
	u.nodes.SetText(b.String())
}

// writeNode writes one node's SAs, SPD and SAD: IKE SAs first, then Child SAs, each in
// the order they appeared.
func writeNode(b *strings.Builder, n *nodeState) {
	var sad []string
	any := false
	for _, typ := range []ike.SAType{ike.SATypeIKE, ike.SATypeChild} {
		for _, k := range n.order {
			st := n.sas[k]
			if st.typ != typ {
				continue
			}
			any = true
			s := st.rec
			if s == nil {
				fmt.Fprintf(b, "  %s  %s (negotiating)\n", tview.Escape(st.machine), st.state)
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
				fmt.Fprintf(b, "  %s %s%s  SPIi %s SPIr %s  %s  up since %s\n", what, tview.Escape(instanceOf(st)), state, s.SPIi, s.SPIr, s.Proposal, st.upAt)
				if len(s.SKei) > 0 {
					fmt.Fprintf(b, "    SK_ei %s  SK_er %s\n", hex.EncodeToString(s.SKei), hex.EncodeToString(s.SKer))
				}
				if len(s.SKai) > 0 {
					fmt.Fprintf(b, "    SK_ai %s  SK_ar %s\n", hex.EncodeToString(s.SKai), hex.EncodeToString(s.SKar))
				}
				if len(s.EncKey) > 0 {
					fmt.Fprintf(b, "    encryption key %s\n", hex.EncodeToString(s.EncKey))
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
			fmt.Fprintf(b, "  Child SA %s/%s%s  %s %s %s  SPI in 0x%s out 0x%s%s\n", s.Conn, tview.Escape(instanceOf(st)), state, proto, s.Mode,
				s.Proposal, s.SPIIn, s.SPIOut, life)
			fmt.Fprintf(b, "    %s ↔ %s\n", strings.Join(s.LocalTS, ","), strings.Join(s.RemoteTS, ","))
			fmt.Fprintf(b, "    keys in  %s %s\n    keys out %s %s\n", hex.EncodeToString(s.EncrKeyIn), hex.EncodeToString(s.IntegKeyIn),
				hex.EncodeToString(s.EncrKeyOut), hex.EncodeToString(s.IntegKeyOut))
			encap := ""
			if s.Encap {
				encap = " (UDP-encapsulated)"
			}
			sad = append(sad, fmt.Sprintf("in  %s SPI 0x%s %s → %s%s", proto, s.SPIIn, s.Remote, s.Local, encap),
				fmt.Sprintf("out %s SPI 0x%s %s → %s%s", proto, s.SPIOut, s.Local, s.Remote, encap))
		}
	}
	if !any {
		b.WriteString("  no SAs\n")
	}
	if len(n.spd) > 0 {
		b.WriteString("  SPD:\n")
		for _, p := range n.spd {
			fmt.Fprintf(b, "    %-3s %s → %s %s", p.Dir, p.Src, p.Dst, p.Action)
			if p.Action == "protect" {
				fmt.Fprintf(b, " reqid %d", p.ReqID)
			}
			fmt.Fprintf(b, " (%s)\n", tview.Escape(p.Name))
		}
	}
	if len(sad) > 0 {
		b.WriteString("  SAD:\n")
		for _, l := range sad {
			b.WriteString("    " + l + "\n")
		}
	}
}

// reveal shows the lab's hint or solution in the lab pane.
func (u *UI) reveal(what string) {
	if u.shown == nil {
		u.shown = map[string]bool{}
	}
	u.shown[what] = true
	u.showPage("lab")
}

// showLab shows the scenario's description and its expectations as of the current
// step, and the hint and solution once asked for.
func (u *UI) showLab() {
	var b strings.Builder
	fmt.Fprintf(&b, "[::b]%s[::-]\n\n%s\n\n", tview.Escape(u.cfg.Title), tview.Escape(render.Paragraphs(u.cfg.Description)))
	for _, h := range []struct{ key, name, text string }{{"h", "hint", u.cfg.Hint}, {"S", "solution", u.cfg.Solution}} {
		switch {
		case h.text == "":
		case u.shown[h.name]:
			fmt.Fprintf(&b, "[::b]%s%s:[::-] %s\n\n", strings.ToUpper(h.name[:1]), h.name[1:], tview.Escape(render.Paragraphs(h.text)))
		default:
			fmt.Fprintf(&b, "[gray]%s shows the %s[-]\n\n", h.key, h.name)
		}
	}
	if u.cfg.Lab == nil {
		b.WriteString("(a saved trace: no expectations to grade)\n")
		u.lab.SetText(b.String())
		return
	}
	lines := u.cfg.Lab(u.curSeq())
	pass, pending := 0, 0
	for _, l := range lines {
		v := "[red]FAIL[-]"
		switch {
		case l.Pending:
			v = "[yellow]WAIT[-]"
			pending++
		case l.Pass:
			v = "[green]PASS[-]"
			pass++
		}
		fmt.Fprintf(&b, "%s  %s\n      %s (seen: %s)\n", v, tview.Escape(l.Says), tview.Escape(l.Check), tview.Escape(l.Seen))
	}
	fmt.Fprintf(&b, "\nas of step %d: %d of %d expectations met", u.cur+1, pass, len(lines))
	if pending > 0 {
		fmt.Fprintf(&b, ", %d not decided yet (WAIT)", pending)
	}
	b.WriteString("\n")
	u.lab.SetText(b.String())
}

func helpView() tview.Primitive {
	text := `[::b]ikesim walkthrough keys[::-]

  → or n      next step               ← or p      previous step
  space       play / pause            + / -       faster / slower
  g or Home   first step              G or End    last step
  ]  [        next / previous exchange
  r           reset to the start
  Tab         move between sequence, fields, explanation and bytes
  Enter       expand or fold a field
  mouse       click a message to see its fields and bytes
  1 2 3 4     sequence, event list, nodes (SAs, SPD, SAD), lab
  /           search the event list (as you type; Esc clears it)
  m a s e x   event list filters: messages, actions, states, ESP, errors
  w           wide detail: fields and explanations over the whole width
  h  S        the lab's hint, its solution
  ?           this help (Esc closes)
  q           quit
`
	tv := tview.NewTextView().SetDynamicColors(true).SetText(text)
	tv.SetBorder(true).SetTitle(" Help ")
	return tview.NewFlex().
		AddItem(nil, 0, 1, false).
		AddItem(tview.NewFlex().SetDirection(tview.FlexRow).
			AddItem(nil, 0, 1, false).AddItem(tv, 21, 0, true).AddItem(nil, 0, 1, false), 76, 0, true).
		AddItem(nil, 0, 1, false)
}
