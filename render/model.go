package render

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ikesim/ikesim/assets"
	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/sim/trace"
)

// Options choose what a diagram shows.
type Options struct {
	Nodes         []string      // lanes to show, in order; empty: every node, in order of appearance
	From, To      time.Duration // time window; To 0 means to the end
	HideESP       bool          // leave out ESP and plain IP traffic
	HideActions   bool          // leave out action rows
	HideStates    bool          // leave out state changes
	ShowTimers    bool          // show timers started, fired and cancelled
	CollapseRetx  bool          // fold retransmissions into the row of the first send
	HideForwarded bool          // leave out messages that only pass through (hops next to hosts)
	// Fold draws nodes in the lane of another name: node -> lane (a group's members
	// in one lane named after the group, FoldGroups). Nodes may name the lane.
	Fold map[string]string
}

// RowKind is what a diagram row shows.
type RowKind int

const (
	RowPhase   RowKind = iota // a phase header across all lanes
	RowMessage                // an arrow from one lane to another
	RowAction                 // an action box beside a lane
	RowState                  // a state change of a lane's state machine
	RowTimer                  // a timer event
	RowDrop                   // a message dropped at a lane (not on the wire)
	RowError                  // a failure
	RowSA                     // an SA coming up or going down
	RowNote                   // scenario bookkeeping (timeline steps, links)
)

// Lane is one node's lifeline.
type Lane struct {
	Name string
}

// Row is one line of the diagram.
type Row struct {
	Kind       RowKind
	T          time.Duration
	Arrive     time.Duration // messages: arrival time (0 when lost)
	Step       int           // the event's sequence number in the trace
	Lane       int           // the lane of actions, states, drops (the sender for messages)
	From, To   int           // messages
	Label      string        // summary or text
	Exchange   string
	Proto      string
	Lost       bool // the message never arrived
	Retransmit bool
	Retries    int // with CollapseRetx: how many retransmissions were folded in
	Weak       []string
	Event      *trace.Event
	// Note explains what this kind of message does, with the RFC section in NoteRef
	// (assets/explain/steps.txt). Only the first message of each kind carries it.
	Note, NoteRef string
	// LostReason says why a lost message never arrived (the drop's text).
	LostReason string
}

// Span is the lifetime of an SA on a lane, from the row where it comes up to the row
// where it goes down (-1: still up at the end).
type Span struct {
	Lane       int
	Label      string
	Start, End int
	Child      bool
}

// Diagram is the model every front end draws.
type Diagram struct {
	Lanes []Lane
	Rows  []Row
	Spans []Span
}

// phaseOf names the phase a message belongs to, as the classic diagrams head them.
func phaseOf(e *trace.Event) string {
	switch e.Exchange() {
	case "IKE_SA_INIT":
		return "IKE SA Setup"
	case "IKE_AUTH":
		return "Authentication and Traffic SA Setup"
	case "CREATE_CHILD_SA":
		return "Child SA Setup and Rekeying"
	case "INFORMATIONAL":
		return "Informational: Delete and Liveness"
	case "":
		if DataPlane(e.Proto()) {
			return "IPsec Message Flow"
		}
		return ""
	}
	return e.Exchange()
}

// Build makes the diagram model of a trace.
func Build(tr *trace.Trace, o Options) *Diagram {
	d := &Diagram{}
	lane := map[string]int{}
	addLane := func(n string) int {
		if n == "" {
			return -1
		}
		if i, ok := lane[n]; ok {
			return i
		}
		name := n
		if f, ok := o.Fold[n]; ok {
			name = f
			if i, ok := lane[name]; ok {
				lane[n] = i
				return i
			}
		}
		if len(o.Nodes) > 0 && !slices.Contains(o.Nodes, name) {
			return -1
		}
		lane[name] = len(d.Lanes)
		lane[n] = lane[name]
		d.Lanes = append(d.Lanes, Lane{Name: name})
		return lane[n]
	}
	for _, n := range o.Nodes {
		addLane(n)
	}
	for member, folded := range o.Fold {
		if i, ok := lane[folded]; ok && len(o.Nodes) > 0 {
			lane[member] = i
		}
	}
	lost := map[int]string{} // message seq -> why it was lost
	for _, e := range tr.Events {
		if e.Kind == trace.KindDrop && e.Ref() != 0 && e.From() != "" {
			lost[e.Ref()] = e.Text
		}
	}
	if len(o.Nodes) == 0 {
		for _, e := range tr.Events {
			if e.Kind == trace.KindMessage {
				addLane(e.From())
				addLane(e.To())
			} else if e.Node != trace.ScenarioNode {
				addLane(e.Node) // the trace opens with the topology, node by node
			}
		}
	}
	phase := ""
	firstRow := map[string]int{} // retransmission folding: exchange|msgid|from -> row
	open := map[string]int{}     // SA spans by key -> index in d.Spans
	notes := newNoter()
	for _, e := range tr.Events {
		t := e.T.Duration()
		if t < o.From || (o.To > 0 && t > o.To) {
			continue
		}
		r := Row{T: t, Step: e.Seq, Event: e, Weak: e.Weak, Lane: -1, From: -1, To: -1}
		switch e.Kind {
		case trace.KindMessage:
			if o.HideESP && !strings.HasPrefix(e.Proto(), "ike") {
				continue
			}
			r.Kind, r.From, r.To = RowMessage, lane[e.From()], lane[e.To()]
			if _, ok := lane[e.From()]; !ok {
				continue
			}
			if _, ok := lane[e.To()]; !ok {
				continue
			}
			r.Lane = r.From
			r.Label, r.Exchange, r.Proto = e.Summary(), e.Exchange(), e.Proto()
			if r.Label == "" {
				r.Label = e.Proto()
			}
			if e.Exchange() != "" {
				r.Label = e.Exchange() + " " + r.Label
				if e.Response() {
					r.Label = e.Exchange() + " response " + e.Summary()
				} else {
					r.Label = e.Exchange() + " request " + e.Summary()
				}
			}
			r.Retransmit = e.Retransmit()
			r.LostReason, r.Lost = lost[e.Seq]
			r.Note, r.NoteRef = notes.note(e)
			if e.Arrive() != nil {
				r.Arrive = e.Arrive().Duration()
			}
			if o.CollapseRetx && e.MessageID() != nil {
				k := retxKey(e)
				if i, ok := firstRow[k]; ok && e.Retransmit() {
					d.Rows[i].Retries++
					if !r.Lost {
						d.Rows[i].Lost = false
					}
					continue
				}
				firstRow[k] = len(d.Rows) + 1
			}
			if p := phaseOf(e); p != "" && p != phase {
				phase = p
				d.Rows = append(d.Rows, Row{Kind: RowPhase, T: t, Step: e.Seq, Label: p, Lane: -1, From: -1, To: -1})
				if o.CollapseRetx && e.MessageID() != nil {
					firstRow[retxKey(e)] = len(d.Rows)
				}
			}
		case trace.KindAction:
			if o.HideActions {
				continue
			}
			r.Kind, r.Label = RowAction, e.Text
		case trace.KindState:
			if o.HideStates {
				continue
			}
			r.Kind, r.Label = RowState, e.Machine()+": "+e.FromState()+" → "+e.ToState()
		case trace.KindTimer:
			if !o.ShowTimers {
				continue
			}
			r.Kind, r.Label = RowTimer, "timer "+string(e.Op)+": "+e.Timer
		case trace.KindDrop:
			if e.From() != "" {
				continue // a loss on the wire: drawn on its message row
			}
			if o.HideESP && e.Proto() != "" && !strings.HasPrefix(e.Proto(), "ike") {
				continue
			}
			r.Kind, r.Label = RowDrop, "drop: "+e.Text
		case trace.KindError:
			r.Kind, r.Label = RowError, e.Text
		case trace.KindSA:
			if e.SA == nil {
				continue
			}
			r.Kind = RowSA
			r.Label = saLabel(e)
		case trace.KindTopology:
			if _, shown := lane[e.Node]; !shown {
				continue // a node left out by --nodes
			}
			r.Kind, r.Label = RowNote, e.Text
		case trace.KindInfo:
			r.Kind, r.Label = RowNote, e.Text
		default:
			continue
		}
		if r.Kind != RowMessage && r.Kind != RowNote {
			i, ok := lane[e.Node]
			if !ok {
				continue
			}
			r.Lane = i
		}
		d.Rows = append(d.Rows, r)
		if r.Kind == RowSA {
			k := e.Node + "|" + string(e.SA.Type) + "|" + e.SA.SPIi + e.SA.SPIr + e.SA.SPIIn
			if e.Op == trace.OpUp {
				open[k] = len(d.Spans)
				d.Spans = append(d.Spans, Span{Lane: r.Lane, Label: r.Label, Start: len(d.Rows) - 1, End: -1, Child: e.SA.Type == ike.SATypeChild})
			} else if i, ok := open[k]; ok {
				d.Spans[i].End = len(d.Rows) - 1
				delete(open, k)
			}
		}
	}
	return d
}

// MessageNotes returns the note of every message of a trace that has one, by seq: the
// note Build gives the first message of each kind, for every message of that kind.
func MessageNotes(tr *trace.Trace) map[int]assets.Explanation {
	n, out := newNoter(), map[int]assets.Explanation{}
	for _, e := range tr.Events {
		if e.Kind != trace.KindMessage {
			continue
		}
		if x, ok := n.explain(e); ok {
			out[e.Seq] = x
		}
	}
	return out
}

// noter picks the explanatory note of each kind of message, once per kind.
type noter struct {
	seen     map[string]bool
	requests map[string]string // exchange|msgid|from|to -> the kind of the request
	groups   map[string]string // from|to -> the group an INVALID_KE_PAYLOAD from "to" asked for
}

func newNoter() *noter {
	return &noter{seen: map[string]bool{}, requests: map[string]string{}, groups: map[string]string{}}
}

// note returns the note of message e if e is the first of its kind to be drawn.
func (n *noter) note(e *trace.Event) (text, ref string) {
	x, ok := n.explain(e)
	if !ok || n.seen[x.Key] {
		return "", ""
	}
	n.seen[x.Key] = true
	return x.Text, x.Ref
}

// explain returns the note of message e's kind, with its placeholders filled in from
// the message's facts.
func (n *noter) explain(e *trace.Event) (assets.Explanation, bool) {
	k := n.kind(e)
	if k == "" {
		return assets.Explanation{}, false
	}
	x, ok := assets.Step(k)
	if !ok {
		return x, false
	}
	notify, group := "an error", e.Group()
	if len(e.Errors()) > 0 {
		notify = e.Errors()[0]
	}
	if group == "" && !e.Response() {
		group = n.groups[e.From()+"|"+e.To()]
		delete(n.groups, e.From()+"|"+e.To()) // the retry has used it
	}
	if group == "" {
		group = "the group it names"
	}
	x.Text = strings.NewReplacer("{notify}", notify, "{group}", group).Replace(x.Text)
	return x, true
}

// kind classifies a message as the steps in assets/explain/steps.txt name them, by what
// it holds: its payloads, notifies and error notifies as the engine read them. A
// response is first of all the answer to its request, and a refusal has a kind of its
// own. An IKE_AUTH or CREATE_CHILD_SA message whose SK payload was not decrypted (an
// imported capture without keys) has no kind: what it holds is unknown.
func (n *noter) kind(e *trace.Event) string {
	switch e.Proto() {
	case "esp":
		if e.Encap() {
			return "ESP in UDP"
		}
		return "ESP"
	case "ah":
		return "AH"
	case "nat-keepalive":
		return "NAT-keepalive"
	case "icmp", "ip", "udp":
		return "IP"
	}
	if e.Exchange() == "" || e.MessageID() == nil {
		return ""
	}
	if e.Proto() == "ikev1" {
		if e.Exchange() == "Informational" && len(e.Errors()) > 0 {
			return "Informational error"
		}
		return ""
	}
	has := func(p string) bool { return slices.Contains(e.Payloads(), p) }
	opaque := len(e.Payloads()) == 0 || len(e.Payloads()) < 2 && (e.Exchange() == "IKE_AUTH" || e.Exchange() == "CREATE_CHILD_SA")
	id := fmt.Sprint(*e.MessageID())
	if e.Response() {
		if e.Exchange() == "IKE_SA_INIT" && e.Group() != "" {
			n.groups[e.To()+"|"+e.From()] = e.Group()
		}
		if opaque {
			return ""
		}
		req, ok := n.requests[e.Exchange()+"|"+id+"|"+e.To()+"|"+e.From()]
		if !ok {
			req = e.Exchange()
		}
		failed := len(e.Errors()) > 0
		switch e.Exchange() {
		case "IKE_SA_INIT":
			switch {
			case has("SA"):
			case slices.Contains(e.Errors(), "INVALID_KE_PAYLOAD"):
				return "IKE_SA_INIT response INVALID_KE_PAYLOAD"
			case failed:
				return "IKE_SA_INIT response error"
			case slices.Contains(e.Notifies(), "COOKIE"):
				return "IKE_SA_INIT response COOKIE"
			}
		case "IKE_AUTH":
			switch auth := has("AUTH"); {
			case !auth && failed:
				return "IKE_AUTH response error"
			case !auth && has("EAP"):
				return "IKE_AUTH response EAP"
			case !auth:
				return ""
			case has("EAP"):
				return "IKE_AUTH response starting EAP"
			case failed:
				return "IKE_AUTH response Child SA error"
			case !has("SA"):
				return "IKE_AUTH response without Child SA"
			case !has("IDr"):
				return "IKE_AUTH response after EAP"
			}
		case "CREATE_CHILD_SA":
			if failed {
				return "CREATE_CHILD_SA response error"
			}
		}
		return req + " response"
	}
	if opaque {
		return ""
	}
	base, kind := e.Exchange(), e.Exchange()+" request"
	switch ex := e.Exchange(); {
	case ex == "IKE_SA_INIT" && slices.Contains(e.Notifies(), "COOKIE"):
		kind = "IKE_SA_INIT request with COOKIE"
	case ex == "IKE_SA_INIT" && n.groups[e.From()+"|"+e.To()] != "":
		kind = "IKE_SA_INIT request with another group"
	case ex == "IKE_AUTH" && !has("AUTH") && has("IDi"):
		kind = "IKE_AUTH request asking for EAP"
	case ex == "IKE_AUTH" && !has("AUTH") && has("EAP"):
		kind = "IKE_AUTH request EAP"
	case ex == "IKE_AUTH" && !has("AUTH"):
		return ""
	case ex == "IKE_AUTH" && !has("IDi"):
		kind = "IKE_AUTH request after EAP"
	case e.Purpose() != "":
		if _, ok := assets.Step(ex + " " + e.Purpose() + " request"); ok {
			base = ex + " " + e.Purpose()
			kind = base + " request"
		}
	}
	n.requests[e.Exchange()+"|"+id+"|"+e.From()+"|"+e.To()] = base
	return kind
}

// retxKey identifies a message and its retransmissions.
func retxKey(e *trace.Event) string {
	return fmt.Sprintf("%s|%s|%d|%t", e.Exchange(), e.From(), *e.MessageID(), e.Response())
}

func saLabel(e *trace.Event) string {
	s := e.SA
	var b strings.Builder
	if s.Type == ike.SATypeIKE {
		b.WriteString("IKE SA ")
		b.WriteString(string(e.Op))
		if s.SPIi != "" {
			b.WriteString(" " + s.SPIi + "_i " + s.SPIr + "_r")
		}
	} else {
		b.WriteString("Child SA " + s.Child + " " + string(e.Op))
		if s.SPIIn != "" {
			b.WriteString(" SPI in 0x" + s.SPIIn + " out 0x" + s.SPIOut)
		}
	}
	if s.Proposal != "" {
		b.WriteString(" (" + s.Proposal + ")")
	}
	if s.Reason != "" {
		b.WriteString(": " + s.Reason)
	}
	return b.String()
}

// Tags are the remarks a front end adds to a message's label: "retransmission",
// "+2 retransmissions", "lost" (with the reason when reason is set).
func (r *Row) Tags(reason bool) []string {
	var tags []string
	if r.Retransmit {
		tags = append(tags, "retransmission")
	}
	if r.Retries > 0 {
		tags = append(tags, fmt.Sprintf("+%d retransmissions", r.Retries))
	}
	if r.Lost {
		t := "lost"
		if reason && r.LostReason != "" {
			t += ": " + r.LostReason
		}
		tags = append(tags, t)
	}
	if e := r.Event; e != nil && e.Kind == trace.KindMessage && e.Text != "" && !r.Retransmit {
		tags = append(tags, e.Text) // a fault rule that hit it, or an import's note
	}
	return tags
}

// DataPlane reports whether a message's protocol is traffic rather than IKE: ESP, AH,
// ICMP and NAT-keepalives.
func DataPlane(proto string) bool {
	return proto == "esp" || proto == "ah" || proto == "icmp" || proto == "nat-keepalive"
}
