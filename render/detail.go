package render

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/ikesim/ikesim/sim/trace"
)

// Details are what the trace says of a row that is not a message, one "name: value"
// line each, from the event's typed fields: its kind and node, a state change, a timer,
// an SA with its selectors and keys, a failure with the authentication values that did
// not verify, weak algorithms.
func Details(r Row) []string {
	e := r.Event
	if e == nil {
		return nil
	}
	var out []string
	add := func(k, v string) {
		if v != "" {
			out = append(out, k+": "+v)
		}
	}
	add("kind", string(e.Kind))
	add("node", e.Node)
	add("state machine", e.Machine())
	if e.Kind == trace.KindState {
		add("from", e.FromState())
		add("to", e.ToState())
	}
	add("timer", e.Timer)
	add("op", string(e.Op))
	if s := e.SA; s != nil {
		add("SA", strings.TrimSpace(string(s.Type)+" "+s.Conn+" "+s.Child))
		add("proposal", s.Proposal)
		add("SPIi", s.SPIi)
		add("SPIr", s.SPIr)
		add("SPI in", s.SPIIn)
		add("SPI out", s.SPIOut)
		add("mode", s.Mode)
		add("local TS", strings.Join(s.LocalTS, ", "))
		add("remote TS", strings.Join(s.RemoteTS, ", "))
		for _, k := range []struct {
			n string
			v []byte
		}{{"SK_ei", s.SKei}, {"SK_er", s.SKer}, {"SK_ai", s.SKai}, {"SK_ar", s.SKar},
			{"encryption key in", s.EncrKeyIn}, {"integrity key in", s.IntegKeyIn},
			{"encryption key out", s.EncrKeyOut}, {"integrity key out", s.IntegKeyOut}} {
			if len(k.v) > 0 {
				add(k.n, hex.EncodeToString(k.v))
			}
		}
		add("reason", s.Reason)
	}
	if f := e.Failure; f != nil {
		add("failure", string(f.Reason))
		add("notify", f.Notify)
		if a := f.Auth; a != nil {
			add(a.Payload+" received", hex.EncodeToString(a.Received))
			add(a.Payload+" computed here ("+a.Method+")", hex.EncodeToString(a.Computed))
			if string(a.Received) != string(a.Computed) {
				add(a.Payload, "the two differ")
			}
		}
	}
	if len(e.Weak) > 0 {
		add("weak algorithms", strings.Join(e.Weak, ", "))
	}
	return out
}

// A Link leads from a row that is not a message to a message row around it.
type Link struct {
	Row  int    // the message's row
	Sent bool   // the node sends it next (else: the node received it last)
	Node string // the row's node
}

// Links are the messages around row i when it is not a message: the last message its
// node received before it (what the node acts on) and the next message the node sends
// (what it leads to). They come from the trace's typed fields (the node, a receipt's
// reference to its message), never from its text.
func (d *Diagram) Links(tr *trace.Trace, i int) []Link {
	r := d.Rows[i]
	if r.Event == nil || r.Kind == RowMessage || r.Kind == RowPhase || r.Lane < 0 {
		return nil
	}
	node := d.Lanes[r.Lane].Name
	rowOfSeq := func(seq int) int {
		j := sort.Search(len(d.Rows), func(j int) bool { return d.Rows[j].Step >= seq })
		for ; j < len(d.Rows) && d.Rows[j].Step == seq; j++ {
			if d.Rows[j].Kind == RowMessage {
				return j
			}
		}
		return -1
	}
	var out []Link
	evs := tr.Events
	at := sort.Search(len(evs), func(j int) bool { return evs[j].Seq >= r.Event.Seq })
	for j := min(at, len(evs)) - 1; j >= 0; j-- {
		if e := evs[j]; e.Kind == trace.KindRecv && e.Node == node && e.Ref() != 0 {
			if m := rowOfSeq(e.Ref()); m >= 0 {
				out = append(out, Link{Row: m, Node: node})
			}
			break
		}
	}
	for j := at + 1; j < len(evs); j++ {
		if e := evs[j]; e.Kind == trace.KindMessage && e.From() == node && !e.Forwarded() {
			if m := rowOfSeq(e.Seq); m >= 0 {
				out = append(out, Link{Row: m, Sent: true, Node: node})
			}
			break
		}
	}
	return out
}

// Text says where the link leads, with the walkthrough's step number of its message.
func (l Link) Text(d *Diagram, step int) string {
	if l.Sent {
		return fmt.Sprintf("→ leads to step %d: %s sends %s", step, l.Node, d.Rows[l.Row].Label)
	}
	return fmt.Sprintf("← after step %d: %s received %s", step, l.Node, d.Rows[l.Row].Label)
}

// EventCategory sorts an event into the event list's filters: 'm' IKE messages, 'e'
// ESP and plain IP traffic, 'a' actions, timers and scenario notes, 's' states and SAs,
// 'x' errors and drops.
func EventCategory(e *trace.Event) rune {
	switch e.Kind {
	case trace.KindMessage, trace.KindRecv:
		if DataPlane(e.Proto()) {
			return 'e'
		}
		return 'm'
	case trace.KindState, trace.KindSA:
		return 's'
	case trace.KindError, trace.KindDrop:
		return 'x'
	}
	return 'a'
}

// EventText is an event in one line, as the event list shows it.
func EventText(e *trace.Event) string {
	switch e.Kind {
	case trace.KindMessage, trace.KindRecv:
		s := e.Summary()
		if e.Exchange() != "" {
			s = e.Exchange() + " " + s
		}
		return fmt.Sprintf("%s → %s  %s", e.From(), e.To(), s)
	case trace.KindState:
		return e.Machine() + ": " + e.FromState() + " → " + e.ToState()
	case trace.KindTimer:
		return "timer " + string(e.Op) + ": " + e.Timer
	case trace.KindSA:
		if e.SA != nil {
			return string(e.SA.Type) + " SA " + string(e.Op) + " " + e.SA.Proposal
		}
	}
	return e.Text
}

// Paragraphs joins the lines of each paragraph of s (a scenario's description, hint or
// solution as YAML keeps it) so that a pane can wrap it to its own width; a blank line
// still separates paragraphs.
func Paragraphs(s string) string {
	var ps []string
	for _, p := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			ps = append(ps, p)
		}
	}
	return strings.Join(ps, "\n\n")
}
