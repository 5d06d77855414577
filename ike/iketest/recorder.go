package iketest

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ikesim/ikesim/ike"
)

// Kinds of Event.
const (
	KindAction        = "action"
	KindState         = "state"
	KindReceived      = "received" // a datagram the engine accepted
	KindDropped       = "dropped"  // a datagram the engine discarded, with the reason in Text
	KindError         = "error"
	KindSent          = "sent"
	KindIKESAUp       = "ike-up"
	KindIKESADown     = "ike-down"
	KindChildSAUp     = "child-up"
	KindChildSADown   = "child-down"
	KindAcquireFailed = "acquire-failed"
	KindVirtualIP     = "virtual-ip"
	KindKeepalive     = "keepalive"
	KindNAT           = "nat" // what NAT detection found
)

// Event is one report of an engine, in the order made.
type Event struct {
	Kind     string
	Text     string // the action, error, drop reason, or "machine: from → to"
	Machine  string // state changes
	From, To string
	Datagram ike.Datagram // received, dropped, sent
	IKESA    *ike.IKESAInfo
	ChildSA  *ike.ChildSAInfo
	Failure  *ike.Failure // errors: the connection, SA, notify and reason, as data
}

func (e Event) String() string { return e.Kind + ": " + e.Text }

// Recorder is an ike.Observer (and ike.AcquireHost, ike.VirtualIPHost) that keeps
// everything an engine reports: in order in Log, and by kind as typed values.
type Recorder struct {
	Log       []Event
	Actions   []string
	Errors    []ike.Failure
	States    []ike.StateChange
	NATs      []ike.NATInfo
	In        []ike.Datagram // datagrams the engine accepted
	Drops     []Drop         // datagrams it discarded
	IKEUp     []*ike.IKESAInfo
	IKEDown   []*ike.IKESAInfo
	ChildUp   []*ike.ChildSAInfo
	ChildDown []*ike.ChildSAInfo
}

// Drop is a datagram the engine discarded, and why.
type Drop struct {
	Datagram ike.Datagram
	Reason   string
}

var (
	_ ike.Observer      = (*Recorder)(nil)
	_ ike.AcquireHost   = (*Recorder)(nil)
	_ ike.VirtualIPHost = (*Recorder)(nil)
)

// Record adds an event to the Log: what the engine's transport saw, say.
func (r *Recorder) Record(e Event) { r.Log = append(r.Log, e) }

func (r *Recorder) Action(text string) {
	r.Actions = append(r.Actions, text)
	r.Record(Event{Kind: KindAction, Text: text})
}

func (r *Recorder) State(c ike.StateChange) {
	r.States = append(r.States, c)
	r.Record(Event{Kind: KindState, Text: fmt.Sprintf("%s: %s → %s", c.Machine, c.From, c.To), Machine: c.Machine, From: c.From, To: c.To})
}

func (r *Recorder) Received(dg ike.Datagram) {
	r.In = append(r.In, dg)
	r.Record(Event{Kind: KindReceived, Text: Summary(dg), Datagram: dg})
}

func (r *Recorder) Dropped(dg ike.Datagram, reason string) {
	r.Drops = append(r.Drops, Drop{dg, reason})
	r.Record(Event{Kind: KindDropped, Text: reason, Datagram: dg})
}

func (r *Recorder) IKESAUp(sa *ike.IKESAInfo) {
	r.IKEUp = append(r.IKEUp, sa)
	r.Record(Event{Kind: KindIKESAUp, Text: fmt.Sprintf("%016x/%016x", sa.SPIi, sa.SPIr), IKESA: sa})
}

func (r *Recorder) IKESADown(sa *ike.IKESAInfo, reason string) {
	r.IKEDown = append(r.IKEDown, sa)
	r.Record(Event{Kind: KindIKESADown, Text: reason, IKESA: sa})
}

func (r *Recorder) ChildSAUp(sa *ike.ChildSAInfo) {
	r.ChildUp = append(r.ChildUp, sa)
	r.Record(Event{Kind: KindChildSAUp, Text: fmt.Sprintf("%s in %08x out %08x", sa.Child, sa.SPIIn, sa.SPIOut), ChildSA: sa})
}

func (r *Recorder) ChildSADown(sa *ike.ChildSAInfo, reason string) {
	r.ChildDown = append(r.ChildDown, sa)
	r.Record(Event{Kind: KindChildSADown, Text: reason, ChildSA: sa})
}

func (r *Recorder) Error(f ike.Failure) {
	r.Errors = append(r.Errors, f)
	r.Record(Event{Kind: KindError, Text: f.Text, Failure: &f})
}

func (r *Recorder) NATDetected(n ike.NATInfo) {
	r.NATs = append(r.NATs, n)
	r.Record(Event{Kind: KindNAT, Text: n.Text})
}

func (r *Recorder) AcquireFailed(reqid uint32, reason string) {
	r.Record(Event{Kind: KindAcquireFailed, Text: fmt.Sprintf("reqid %d: %s", reqid, reason)})
}

func (r *Recorder) AssignVirtualIP(a netip.Addr) {
	r.Record(Event{Kind: KindVirtualIP, Text: a.String()})
}

// Summary is a datagram's exchange and payloads ("IKE_AUTH HDR, SK {IDi, AUTH}"), or
// its size when the engine did not describe it.
func Summary(dg ike.Datagram) string {
	if dg.Info == nil {
		return fmt.Sprintf("%d bytes", len(dg.Data))
	}
	return dg.Info.Exchange + " " + dg.Info.Summary
}

// Mark is the position of the next event: Since(Mark()) later gives what happened in
// between.
func (r *Recorder) Mark() int { return len(r.Log) }

// Since returns the events from position mark on, of the given kinds (all when none).
func (r *Recorder) Since(mark int, kinds ...string) []Event {
	var out []Event
	for _, e := range r.Log[min(mark, len(r.Log)):] {
		if len(kinds) == 0 || slices.Contains(kinds, e.Kind) {
			out = append(out, e)
		}
	}
	return out
}

// Texts returns the Text of the events from mark on of one kind.
func (r *Recorder) Texts(mark int, kind string) []string {
	var out []string
	for _, e := range r.Since(mark, kind) {
		out = append(out, e.Text)
	}
	return out
}

// Has reports whether an event of kind from mark on has a Text containing every part.
func (r *Recorder) Has(mark int, kind string, parts ...string) bool {
	return Has(r.Texts(mark, kind), parts...)
}

// DroppedFor reports whether a drop reason contains s.
func (r *Recorder) DroppedFor(s string) bool { return r.Has(0, KindDropped, s) }

// LastState returns the state a machine whose name contains machine was last put in,
// or "" when none was.
func (r *Recorder) LastState(machine string) string {
	s := ""
	for _, c := range r.States {
		if strings.Contains(c.Machine, machine) {
			s = c.To
		}
	}
	return s
}

// Has reports whether a line of list contains every part.
func Has(list []string, parts ...string) bool {
	for _, l := range list {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return true
		}
	}
	return false
}
