package trace

import (
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// TestSummarize counts a small trace by hand: group members' connections together,
// forwarded messages once, the handshake time from the first request to the SA up on
// the initiator, errors per connection, pings and drops by cause.
func TestSummarize(t *testing.T) {
	ms := func(n int) Seconds { return Seconds(time.Duration(n) * time.Millisecond) }
	msg := func(t int, node, exch, spi string, resp, retx, fwd bool) *Event {
		return &Event{T: ms(t), Kind: KindMessage, Node: node, Wire: &Wire{Proto: "ikev2", Exchange: exch, SPIi: spi,
			Response: resp, Retransmit: retx, Forwarded: fwd, Bytes: make(Hex, 100)}}
	}
	up := func(t int, node, conn string, typ ike.SAType, spi string, init bool) *Event {
		return &Event{T: ms(t), Kind: KindSA, Node: node, Op: OpUp, SA: &SARecord{Type: typ, Conn: conn, SPIi: spi, Initiator: init}}
	}
	events := []*Event{
		{Kind: KindTopology, Node: "gw", Topology: &Topology{NodeKind: "gateway"}},
		{Kind: KindTopology, Node: "rw-1", Topology: &Topology{NodeKind: "host", Group: "rw"}},
		{Kind: KindTopology, Node: "rw-2", Topology: &Topology{NodeKind: "host", Group: "rw"}},
		msg(0, "rw-1", "IKE_SA_INIT", "a1", false, false, false),
		{T: ms(2), Kind: KindMessage, Node: "gw", Wire: &Wire{Proto: "ikev2", Exchange: "IKE_SA_INIT", SPIi: "a1",
			Response: true, Notifies: []string{"COOKIE"}}},
		msg(5, "router", "IKE_SA_INIT", "a1", false, false, true),
		msg(10, "gw", "IKE_SA_INIT", "a1", true, false, false),
		msg(20, "rw-2", "IKE_SA_INIT", "b2", false, false, false),
		msg(520, "rw-2", "IKE_SA_INIT", "b2", false, true, false),
		msg(40, "rw-1", "IKE_AUTH", "a1", false, false, false),
		up(50, "gw", "rw", ike.SATypeIKE, "a1", false),
		up(50, "gw", "rw", ike.SATypeChild, "", false),
		up(60, "rw-1", "home", ike.SATypeIKE, "a1", true),
		up(60, "rw-1", "home", ike.SATypeChild, "", true),
		up(600, "rw-2", "home", ike.SATypeIKE, "b2", true),
		{T: ms(700), Kind: KindError, Node: "rw-2", StateFacts: &StateFacts{Conn: "home", SAType: ike.SATypeChild}},
		{T: ms(70), Kind: KindAction, Node: "rw-1", Ping: &PingRecord{Op: PingRequest}},
		{T: ms(80), Kind: KindAction, Node: "rw-1", Ping: &PingRecord{Op: PingReply}},
		{T: ms(80), Kind: KindDrop, Node: "gw", Wire: &Wire{Cause: DropLoss}},
	}
	s := Summarize(events)
	if s.Nodes != 3 || len(s.Groups) != 1 || s.Groups[0] != (GroupCount{"rw", 2}) || s.Events != len(events) || s.End != ms(700) {
		t.Errorf("nodes %d, groups %v, events %d, end %v", s.Nodes, s.Groups, s.Events, s.End)
	}
	rw, gw := s.Conn("rw/home"), s.Conn("gw/rw")
	if rw == nil || gw == nil || len(s.Conns) != 2 {
		t.Fatalf("connections %+v", s.Conns)
	}
	if rw.Group != "rw" || rw.Nodes != 2 || rw.IKEUp != 2 || rw.ChildUp != 1 || rw.ChildFailed != 1 || rw.IKEFailed != 0 {
		t.Errorf("rw/home: %+v", *rw)
	}
	if want := []time.Duration{60 * time.Millisecond, 580 * time.Millisecond}; len(rw.Handshakes) != 2 || rw.Handshakes[0] != want[0] || rw.Handshakes[1] != want[1] {
		t.Errorf("handshakes %v, want %v", rw.Handshakes, want)
	}
	if rw.Percentile(50) != 60*time.Millisecond || rw.Percentile(99) != 580*time.Millisecond || len(gw.Handshakes) != 0 {
		t.Errorf("p50 %v, p99 %v, gateway's %v", rw.Percentile(50), rw.Percentile(99), gw.Handshakes)
	}
	init := s.Exchanges[len(s.Exchanges)-1]
	if init.Exchange != "IKE_SA_INIT" || init.Messages != 5 || init.Bytes != 400 || init.Retransmits != 1 || s.Retransmits != 1 {
		t.Errorf("IKE_SA_INIT: %+v", *init)
	}
	if s.PingsSent != 1 || s.PingsAnswered != 1 || s.Drops[DropLoss] != 1 || s.Notifies["COOKIE"] != 1 || len(s.Notifies) != 1 {
		t.Errorf("pings %d/%d, drops %v, notifies %v", s.PingsSent, s.PingsAnswered, s.Drops, s.Notifies)
	}
	var b strings.Builder
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3 nodes, group rw: 2", "rw/home (group)", "60.0ms", "580.0ms", "pings: 1 sent, 1 answered", "dropped: 1 (loss 1)", "notifies sent: COOKIE 1"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the text lacks %q:\n%s", want, b.String())
		}
	}
}

// TestWriteJSONKeepsNoDissection: WriteJSON writes each message's dissection without
// keeping it on the event, which still makes it when asked (Fields).
func TestWriteJSONKeepsNoDissection(t *testing.T) {
	made := 0
	e := &Event{Kind: KindMessage, Node: "a", Wire: &Wire{Proto: "ikev2"}}
	e.SetDissect(func() *ike.Field { made++; return &ike.Field{Name: "IKEv2 header"} })
	tr := &Trace{}
	tr.Emit(e)
	var b strings.Builder
	if err := tr.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"IKEv2 header"`) || made != 1 {
		t.Fatalf("made %d dissections, wrote %s", made, b.String())
	}
	if e.Dissection() != nil {
		t.Error("WriteJSON kept the dissection on the event")
	}
	if f := e.Fields(); f == nil || f.Name != "IKEv2 header" {
		t.Errorf("Fields() = %v after WriteJSON", f)
	}
}
