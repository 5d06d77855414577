package sim

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/sim/trace"
)

func TestSchedulerRunsInTimeThenInsertionOrder(t *testing.T) {
	s := New(1)
	var got []string
	s.After(2*time.Second, func() { got = append(got, "c") })
	s.After(time.Second, func() { got = append(got, "a") })
	s.After(time.Second, func() { got = append(got, "b") })
	x := s.After(1500*time.Millisecond, func() { got = append(got, "cancelled") })
	if !x.Cancel() || x.Cancel() {
		t.Error("Cancel should report true once, then false")
	}
	s.Run(10 * time.Second)
	if strings.Join(got, "") != "abc" {
		t.Errorf("ran %v, want a b c", got)
	}
	if s.Now() != 10*time.Second {
		t.Errorf("clock at %v after Run(10s)", s.Now())
	}
}

// TestCancelledCallbacksLeaveTheQueue: cancelled callbacks leave the queue at once (a
// retransmission timer cancelled by its response, 10,000 times, left 10,000 entries
// behind until they were due), and the rest run in time order, then in the order they
// were scheduled.
func TestCancelledCallbacksLeaveTheQueue(t *testing.T) {
	s := New(1)
	type job struct {
		at  time.Duration
		seq int
	}
	var ran []job
	var keep []job
	var cancel []*Scheduled
	for i := range 10000 {
		j := job{time.Duration(i*7919%100) * time.Millisecond, i}
		e := s.After(j.at, func() { ran = append(ran, j) })
		if i%5 == 0 {
			keep = append(keep, j)
		} else {
			cancel = append(cancel, e)
		}
	}
	for _, e := range cancel {
		if !e.Cancel() {
			t.Fatal("Cancel of a pending callback reported false")
		}
	}
	if s.Pending() != len(keep) {
		t.Errorf("%d callbacks queued after cancelling %d of %d, want %d", s.Pending(), len(cancel), len(cancel)+len(keep), len(keep))
	}
	s.Run(time.Second)
	slices.SortStableFunc(keep, func(a, b job) int { return cmp.Compare(a.at, b.at) })
	if !slices.Equal(ran, keep) {
		t.Errorf("ran %d callbacks, want %d in time order then in the order scheduled", len(ran), len(keep))
	}
	if s.Pending() != 0 {
		t.Errorf("%d callbacks queued after the run", s.Pending())
	}
}

func TestRandStreamsAreNamedAndSeeded(t *testing.T) {
	read := func(seed uint64, name string) [8]byte {
		var b [8]byte
		New(seed).Rand(name).Read(b[:])
		return b
	}
	if a1, a2 := read(1, "a"), read(1, "a"); a1 != a2 {
		t.Error("the same seed and name give different streams")
	}
	if read(1, "a") == read(2, "a") || read(1, "a") == read(1, "b") {
		t.Error("other seeds or names give the same stream")
	}
}

// line builds host a — router r — host b, with the given impairments on a—r.
func line(t testing.TB, p LinkParams) (*Network, *Node, *Node) {
	t.Helper()
	s := New(7)
	n := NewNetwork(s)
	a, _ := n.AddNode("a", KindHost, netip.MustParsePrefix("10.0.1.2/24"))
	n.AddNode("r", KindRouter, netip.MustParsePrefix("10.0.1.1/24"), netip.MustParsePrefix("10.0.2.1/24"))
	b, _ := n.AddNode("b", KindHost, netip.MustParsePrefix("10.0.2.2/24"))
	if _, err := n.Connect("a", "r", netip.Addr{}, netip.Addr{}, p); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Connect("r", "b", netip.Addr{}, netip.Addr{}, LinkParams{Delay: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	n.Start()
	return n, a, b
}

func count(tr *trace.Trace, f func(*trace.Event) bool) int {
	c := 0
	for _, e := range tr.Events {
		if f(e) {
			c++
		}
	}
	return c
}

func TestPingCrossesARouter(t *testing.T) {
	n, _, _ := line(t, LinkParams{Delay: 5 * time.Millisecond})
	p, err := n.Ping("a", netip.MustParseAddr("10.0.2.2"), 3, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	n.Sim.Run(5 * time.Second)
	if p.Answered != 3 {
		t.Fatalf("%d of 3 answered", p.Answered)
	}
	fwd := count(n.Sim.Trace, func(e *trace.Event) bool { return e.Kind == trace.KindMessage && e.Forwarded() })
	if fwd != 6 {
		t.Errorf("%d forwarded messages, want 6 (3 requests and 3 replies through r)", fwd)
	}
	// The request reaches b 5 ms + 1 ms after it left.
	for _, e := range n.Sim.Trace.Events {
		if e.Kind == trace.KindRecv && e.Node == "b" {
			if e.T.Duration() != 6*time.Millisecond {
				t.Errorf("first request reaches b at %v, want 6ms", e.T)
			}
			break
		}
	}
}

func TestLossDuplicationReordering(t *testing.T) {
	n, _, _ := line(t, LinkParams{Delay: 10 * time.Millisecond, Loss: 0.3, Duplicate: 0.2, Reorder: 0.2})
	p, _ := n.Ping("a", netip.MustParseAddr("10.0.2.2"), 400, 5*time.Millisecond)
	n.Sim.Run(10 * time.Second)
	lost := count(n.Sim.Trace, func(e *trace.Event) bool { return e.Kind == trace.KindDrop && strings.Contains(e.Text, "loss") })
	dups := count(n.Sim.Trace, func(e *trace.Event) bool { return e.Kind == trace.KindRecv && e.Text == "duplicate copy" })
	// 400 requests and their replies cross a—r: about 30% of ~680 datagrams are lost.
	if lost < 120 || lost > 280 {
		t.Errorf("%d datagrams lost, expected about 30%%", lost)
	}
	if dups < 50 {
		t.Errorf("only %d duplicates at 20%%", dups)
	}
	if p.Answered == 0 || p.Answered >= 400 {
		t.Errorf("%d of 400 answered through 30%% loss each way", p.Answered)
	}
	// Reordering: some request reaches r after a later one.
	var last uint16
	reordered := false
	for _, e := range n.Sim.Trace.Events {
		if e.Kind == trace.KindRecv && e.Node == "r" && e.From() == "a" {
			var seq uint16
			if i := strings.LastIndex(e.Summary(), "seq "); i >= 0 {
				for _, c := range e.Summary()[i+4:] {
					seq = seq*10 + uint16(c-'0')
				}
			}
			if seq < last {
				reordered = true
			}
			last = seq
		}
	}
	if !reordered {
		t.Error("no datagram was reordered at 20%")
	}
}

func TestMTUDropsLargeDatagrams(t *testing.T) {
	n, a, _ := line(t, LinkParams{MTU: 576})
	n.Sim.After(0, func() {
		big := a.udpPacket(netip.MustParseAddrPort("10.0.1.2:9"), netip.MustParseAddrPort("10.0.2.2:9"), make([]byte, 1000))
		a.SendIP(big, nil)
	})
	n.Sim.Run(time.Second)
	if count(n.Sim.Trace, func(e *trace.Event) bool { return e.Kind == trace.KindDrop && strings.Contains(e.Text, "MTU of 576") }) != 1 {
		t.Error("a 1028-byte datagram crossed a 576-byte MTU")
	}
}

func TestLinkDown(t *testing.T) {
	n, _, _ := line(t, LinkParams{})
	if err := n.SetLink("a", "r", false); err != nil {
		t.Fatal(err)
	}
	p, _ := n.Ping("a", netip.MustParseAddr("10.0.2.2"), 2, time.Second)
	n.Sim.Run(5 * time.Second)
	if p.Answered != 0 || count(n.Sim.Trace, func(e *trace.Event) bool { return e.Kind == trace.KindDrop && strings.Contains(e.Text, "is down") }) != 2 {
		t.Error("packets crossed a link that is down")
	}
	if err := n.SetLink("a", "x", true); err == nil {
		t.Error("SetLink accepts an unknown link")
	}
}

func natNet(t *testing.T, timeout time.Duration) (*Network, *Node) {
	t.Helper()
	s := New(3)
	n := NewNetwork(s)
	n.AddNode("in", KindHost, netip.MustParsePrefix("192.168.1.2/24"))
	nat, _ := n.AddNode("nat", KindNAT, netip.MustParsePrefix("192.168.1.1/24"), netip.MustParsePrefix("198.51.100.1/24"))
	nat.NATOutside = -1
	nat.NATTimeout = timeout
	n.AddNode("out", KindHost, netip.MustParsePrefix("198.51.100.9/24"))
	n.Connect("in", "nat", netip.Addr{}, netip.Addr{}, LinkParams{Delay: time.Millisecond})
	n.Connect("nat", "out", netip.Addr{}, netip.Addr{}, LinkParams{Delay: time.Millisecond})
	n.Start()
	return n, nat
}

func TestNATRewritesAndMapsBack(t *testing.T) {
	n, _ := natNet(t, time.Minute)
	p, _ := n.Ping("in", netip.MustParseAddr("198.51.100.9"), 2, time.Second)
	n.Sim.Run(5 * time.Second)
	if p.Answered != 2 {
		t.Fatalf("%d of 2 answered through the NAT", p.Answered)
	}
	for _, e := range n.Sim.Trace.Events {
		if e.Kind == trace.KindRecv && e.Node == "out" && !strings.HasPrefix(e.Src(), "198.51.100.1") {
			t.Errorf("outside host sees source %s, want the NAT's address", e.Src())
		}
	}
	if count(n.Sim.Trace, func(e *trace.Event) bool {
		return e.Kind == trace.KindAction && strings.Contains(e.Text, "new mapping")
	}) != 1 {
		t.Error("want exactly one NAT mapping for one ping identifier")
	}
}

func TestNATMappingExpires(t *testing.T) {
	n, _ := natNet(t, 10*time.Second)
	in, out := n.Node("in"), n.Node("out")
	n.Sim.After(0, func() {
		in.SendIP(in.udpPacket(netip.MustParseAddrPort("192.168.1.2:5000"), netip.MustParseAddrPort("198.51.100.9:7"), []byte("hi")), nil)
	})
	reply := func() {
		out.SendIP(out.udpPacket(netip.MustParseAddrPort("198.51.100.9:7"), netip.MustParseAddrPort("198.51.100.1:40001"), []byte("back")), nil)
	}
	n.Sim.After(5*time.Second, reply)  // the mapping is alive: the reply reaches in
	n.Sim.After(20*time.Second, reply) // idle for 15 s > 10 s: expired
	n.Sim.Run(30 * time.Second)
	reached := count(n.Sim.Trace, func(e *trace.Event) bool { return e.Kind == trace.KindRecv && e.Node == "in" })
	if reached != 1 {
		t.Errorf("%d replies reached the inside host, want 1 (the one before expiry)", reached)
	}
	if count(n.Sim.Trace, func(e *trace.Event) bool { return e.Kind == trace.KindAction && strings.Contains(e.Text, "expired") }) != 1 {
		t.Error("the mapping expiry is not in the trace")
	}
	if count(n.Sim.Trace, func(e *trace.Event) bool {
		return e.Kind == trace.KindDrop && strings.Contains(e.Text, "NAT: no mapping")
	}) != 1 {
		t.Error("the late reply was not dropped by the NAT")
	}
}

func TestNoRoute(t *testing.T) {
	n, _, _ := line(t, LinkParams{})
	n.Ping("a", netip.MustParseAddr("172.16.0.1"), 1, time.Second)
	n.Sim.Run(time.Second)
	if count(n.Sim.Trace, func(e *trace.Event) bool { return e.Kind == trace.KindDrop && strings.Contains(e.Text, "no route") }) == 0 {
		t.Error("a packet to an unknown network was not dropped for lack of a route")
	}
}

func TestTraceJSONRoundTrip(t *testing.T) {
	n, _, _ := line(t, LinkParams{Delay: time.Millisecond})
	n.Ping("a", netip.MustParseAddr("10.0.2.2"), 1, time.Second)
	n.Sim.Run(time.Second)
	var b strings.Builder
	if err := n.Sim.Trace.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	back, err := trace.ReadJSON(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Events) != len(n.Sim.Trace.Events) {
		t.Fatalf("%d events back of %d", len(back.Events), len(n.Sim.Trace.Events))
	}
	var again strings.Builder
	back.WriteJSON(&again)
	if again.String() != b.String() {
		t.Error("a trace read back writes different JSON")
	}
	if _, err := trace.ReadJSON(strings.NewReader("{\"kind\":\"message\"}\nnot json\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: %v", err)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
