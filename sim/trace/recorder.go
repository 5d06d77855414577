package trace

import (
	"fmt"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
)

// Recorder turns what an IKE engine reports (ike.Observer) and what its host does (timers,
// pings, drops, SAs installed) into events of one node. The simulated node (sim) and the
// live host (sim/live) embed one each; they implement ChildSAUp and ChildSADown
// themselves, since those install SAs, and record them with ChildSA.
type Recorder struct {
	// Node is the node the events belong to.
	Node string
	// Emit records an event: it stamps the time and appends it to the trace.
	Emit func(*Event)
	// Ref is the message event of the datagram being handled (0 between datagrams), and
	// Recv its recv event (nil when the host records none): Received completes Recv
	// with the engine's reading of the message, Dropped refers to Ref.
	Ref  int
	Recv *Event
}

func (r *Recorder) emit(e *Event) {
	if e.Node == "" {
		e.Node = r.Node
	}
	r.Emit(e)
}

// Action records a step the node takes (ike.Observer).
func (r *Recorder) Action(text string) { r.emit(&Event{Kind: KindAction, Text: text}) }

// Info records scenario bookkeeping of this node.
func (r *Recorder) Info(text string) { r.emit(&Event{Kind: KindInfo, Text: text}) }

// State records a state change (ike.Observer).
func (r *Recorder) State(s ike.StateChange) {
	r.emit(&Event{Kind: KindState, StateFacts: &StateFacts{Machine: s.Machine, MachineKind: s.Kind, Instance: s.Instance,
		SAType: s.Type, Conn: s.Conn, Child: s.Child, FromState: s.From, ToState: s.To}})
}

// Error records a failure (ike.Observer).
func (r *Recorder) Error(f ike.Failure) {
	var t ike.SAType
	switch {
	case f.Child != "":
		t = ike.SATypeChild
	case f.SA != "":
		t = ike.SATypeIKE
	}
	reason := f.Reason
	if reason == "" {
		reason = ike.FailInternal
	}
	fr := &Failure{SA: f.SA, Notify: f.Notify, Reason: reason}
	if a := f.Auth; a != nil {
		fr.Auth = &AuthRecord{Payload: a.Payload, Method: a.Method, Received: a.Received, Computed: a.Computed}
	}
	r.emit(&Event{Kind: KindError, Text: f.Text, Failure: fr, StateFacts: &StateFacts{Conn: f.Conn, Child: f.Child, SAType: t}})
}

// Errorf records a failure of the host itself, which concerns no exchange.
func (r *Recorder) Errorf(format string, args ...any) {
	r.Error(ike.Failure{Reason: ike.FailInternal, Text: fmt.Sprintf(format, args...)})
}

// NATDetected records what NAT detection found (ike.Observer), as an action.
func (r *Recorder) NATDetected(n ike.NATInfo) {
	r.emit(&Event{Kind: KindAction, Text: n.Text, NAT: &NATRecord{Conn: n.Conn, Local: n.Local, Remote: n.Remote}})
}

// Received completes the recv event of the datagram being handled with the engine's
// reading of it (ike.Observer).
func (r *Recorder) Received(dg ike.Datagram) {
	if r.Recv == nil || dg.Info == nil {
		return
	}
	e := r.Recv
	w := WireOf(e)
	w.Exchange, w.Summary, w.Response = dg.Info.Exchange, dg.Info.Summary, dg.Info.Response
	id := dg.Info.MessageID
	w.MessageID = &id
	w.lazy = dg.Info.Dissect
	setFacts(e, &dg.Info.MessageFacts)
}

// Dropped records an IKE message the engine discarded (ike.Observer).
func (r *Recorder) Dropped(dg ike.Datagram, reason string) {
	w := &Wire{Ref: r.Ref, Src: dg.Remote.String(), Dst: dg.Local.String(), Cause: DropIKE}
	if dg.Info != nil {
		w.Proto = fmt.Sprintf("ikev%d", dg.Info.Version)
		w.Exchange = dg.Info.Exchange
		w.lazy = dg.Info.Dissect
	}
	e := &Event{Kind: KindDrop, Text: reason, Wire: w}
	r.emit(e)
}

// IKESAUp records an IKE SA with its keys (ike.Observer).
func (r *Recorder) IKESAUp(sa *ike.IKESAInfo) {
	r.emit(&Event{Kind: KindSA, Op: OpUp, SA: IKESARecord(sa), Weak: sa.Proposal.Weak()})
}

// IKESADown records the end of an IKE SA (ike.Observer). It keeps the keys: an SA that
// failed in IKE_AUTH (a wrong pre-shared key) had keys all the same, and its messages
// can be decrypted with them.
func (r *Recorder) IKESADown(sa *ike.IKESAInfo, reason string) {
	rec := IKESARecord(sa)
	rec.Reason = reason
	r.emit(&Event{Kind: KindSA, Op: OpDown, SA: rec})
}

// ChildSA records a Child SA that the host installed (up, with the SPD entries it added)
// or removed (down, with the SPD entries it removed).
func (r *Recorder) ChildSA(op Op, c *ike.ChildSAInfo, reason string, policies []*ipsec.Policy) {
	if op == OpUp {
		rec := ChildSARecord(c)
		rec.Policies = Policies(policies)
		r.emit(&Event{Kind: KindSA, Op: OpUp, SA: rec, Weak: c.Proposal.Weak()})
		return
	}
	rec := ChildSADownRecord(c, reason)
	rec.Policies = Policies(policies)
	r.emit(&Event{Kind: KindSA, Op: OpDown, SA: rec})
}

// Timer records a timer started (with when it is due), fired or cancelled.
func (r *Recorder) Timer(op Op, name string, due *Seconds) {
	r.emit(&Event{Kind: KindTimer, Timer: name, Op: op, Due: due})
}

// Ping records what happened to one echo request of a ping, with words for people.
func (r *Recorder) Ping(p PingRecord, text string) {
	r.emit(&Event{Kind: KindAction, Text: text, Ping: &p})
}

// Drop records a datagram or packet the node discards: ref is its message event (0 for
// one made here), pkt its bytes when the event should carry them.
func (r *Recorder) Drop(ref int, cause DropCause, text string, pkt []byte) *Event {
	e := &Event{Kind: KindDrop, Text: text, Wire: &Wire{Ref: ref, Cause: cause, Bytes: pkt}}
	r.emit(e)
	return e
}

// DescribeIKE puts what the engine knows of an IKE message on its message event.
func DescribeIKE(e *Event, i *ike.MessageInfo) {
	w := WireOf(e)
	switch i.Version {
	case 1:
		w.Proto = "ikev1"
	case 2:
		w.Proto = "ikev2"
	default:
		w.Proto = fmt.Sprintf("ikev%d", i.Version)
	}
	w.Exchange, w.Summary, w.Response, w.Retransmit, e.Weak = i.Exchange, i.Summary, i.Response, i.Retransmit, i.Weak
	id := i.MessageID
	w.MessageID = &id
	setFacts(e, &i.MessageFacts)
}

// setFacts copies a message's facts onto its event.
func setFacts(e *Event, f *ike.MessageFacts) {
	w := WireOf(e)
	if f.SPIi != 0 || f.SPIr != 0 {
		w.SPIi, w.SPIr = Hex64(f.SPIi), Hex64(f.SPIr)
	}
	w.Payloads, w.Notifies, w.Purpose = f.Payloads, f.Notifies, string(f.Purpose)
	w.Errors, w.Group = f.Errors, f.Group
	w.Creates, w.Rekeys, w.Deletes = saRefs(f.Creates), saRefs(f.Rekeys), saRefs(f.Deletes)
}

func saRefs(refs []ike.SARef) []SARef {
	if len(refs) == 0 {
		return nil
	}
	out := make([]SARef, len(refs))
	for i, s := range refs {
		spi := Hex32(uint32(s.SPI))
		if s.Protocol == ike.ProtoIKE {
			spi = Hex64(s.SPI)
		}
		out[i] = SARef{Proto: protoName(s.Protocol), SPI: spi}
	}
	return out
}
