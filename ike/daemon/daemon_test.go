package daemon

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/iketest"
)

// clock is a virtual clock that records what its timers do.
type clock struct {
	*iketest.Clock
	log []string
}

type timer struct {
	ike.Timer
	c    *clock
	name string
}

func newClock() *clock { return &clock{Clock: iketest.NewClock(time.Unix(0, 0))} }

func (c *clock) AfterFunc(d time.Duration, name string, f func()) ike.Timer {
	c.log = append(c.log, "start "+name+" "+d.String())
	return timer{c.Clock.AfterFunc(d, name, f), c, name}
}

func (t timer) Stop() bool {
	t.c.log = append(t.c.log, "stop "+t.name)
	return t.Timer.Stop()
}

type observer struct {
	ike.Observer
	actions []string
}

func (o *observer) Action(text string) { o.actions = append(o.actions, text) }

func conns() []*ike.Connection {
	return []*ike.Connection{
		{Name: "a", Children: []*ike.ChildConfig{{Name: "a1", StartAction: ike.StartTrigger}, {Name: "a2"}}},
		{Name: "b", Children: []*ike.ChildConfig{{Name: "b1", ReqID: 7, StartAction: ike.StartTrigger}}},
	}
}

func TestCoreConnections(t *testing.T) {
	obs := &observer{}
	e := NewCore(ike.Env{Observer: obs}, "R1", 2)
	for _, c := range conns() {
		e.Add(c)
	}
	var reqids []uint32
	for _, tr := range e.Commands().Traps() {
		reqids = append(reqids, tr.ReqID)
		if ref, ok := e.Child(tr.ReqID); !ok || ref.Child.Name != tr.Child || ref.Conn.Name != tr.Conn {
			t.Errorf("Child(%d) = %v, %v; want the trap's %s/%s", tr.ReqID, ref, ok, tr.Conn, tr.Child)
		}
	}
	if want := []uint32{1, 7}; !slices.Equal(reqids, want) {
		t.Errorf("traps' reqids %v, want %v", reqids, want)
	}
	if _, ok := e.Child(3); ok {
		t.Error("Child(3) found, no child has reqid 3")
	}
	for _, tc := range []struct {
		conn, child string
		want        []string
		err         string
	}{
		{"a", "", []string{"a1", "a2"}, ""},
		{"a", "a2", []string{"a2"}, ""},
		{"a", "b1", nil, `ikev2: connection a has no child "b1"`},
		{"c", "", nil, `ikev2: no connection "c" on R1`},
	} {
		_, children, err := e.Initiate(tc.conn, tc.child)
		var names []string
		for _, ch := range children {
			names = append(names, ch.Name)
		}
		if got := errText(err); got != tc.err || !slices.Equal(names, tc.want) {
			t.Errorf("Initiate(%q, %q) = %v, %q; want %v, %q", tc.conn, tc.child, names, got, tc.want, tc.err)
		}
	}
	if err := e.Commands().SetPSK("b", []byte("new")); err != nil || string(e.Conns[1].Local.PSK) != "new" || string(e.Conns[1].Remote.PSK) != "new" {
		t.Errorf("SetPSK: %v, keys %q %q", err, e.Conns[1].Local.PSK, e.Conns[1].Remote.PSK)
	}
	if len(obs.actions) != 1 || !strings.Contains(obs.actions[0], "connection b") {
		t.Errorf("SetPSK narrates %q", obs.actions)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

type sa struct{ children map[string]int }

func (s *sa) InstalledChild(name string) (int, bool) { n, ok := s.children[name]; return n, ok }

func TestOnSA(t *testing.T) {
	e := NewCore(ike.Env{}, "R1", 1)
	s := &sa{children: map[string]int{"c": 4}}
	for _, tc := range []struct {
		child string
		err   error
		want  string
	}{
		{"", nil, "whole"},
		{"c", nil, "part 4"},
		{"d", nil, `ikev1: connection x has no installed child "d"`},
		{"c", errors.New("no SA"), "no SA"},
	} {
		got := ""
		err := OnSA(e, "x", tc.child, s, tc.err, func() { got = "whole" }, func(n int) { got = fmt.Sprint("part ", n) })
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("OnSA(%q, %v) did %q, want %q", tc.child, tc.err, got, tc.want)
		}
	}
}

func TestTimers(t *testing.T) {
	c := newClock()
	ts := NewTimers(c)
	fired := ""
	ts.Start("rekey", 5*time.Second, func() { fired += "rekey " })
	ts.Start("DPD", 2*time.Second, func() { fired += "DPD " })
	ts.Start("rekey", 3*time.Second, func() { fired += "rekey2 " }) // replaces the first
	c.Run(4 * time.Second)
	if fired != "DPD rekey2 " || ts.Running("DPD") || ts.Running("rekey") {
		t.Errorf("fired %q; running DPD %v rekey %v", fired, ts.Running("DPD"), ts.Running("rekey"))
	}
	c.log = nil
	for _, name := range []string{"lifetime", "DPD", "NAT keep-alive"} {
		ts.Start(name, time.Second, func() {})
	}
	ts.StopAll()
	want := []string{"start lifetime 1s", "start DPD 1s", "start NAT keep-alive 1s", "stop DPD", "stop NAT keep-alive", "stop lifetime"}
	if !slices.Equal(c.log, want) {
		t.Errorf("log %q, want %q (stopped in the order of their names)", c.log, want)
	}
}

type child struct{ tr ike.Traffic }

func (c child) Traffic() (ike.Traffic, bool) { return c.tr, !c.tr.LastIn.IsZero() }

func TestKeepalive(t *testing.T) {
	c := newClock()
	ts := NewTimers(c)
	lastOut := c.Now()
	var esp child
	var sent []time.Duration
	gone := false
	Keepalive{Every: 10 * time.Second, Gone: func() bool { return gone },
		LastSent: func() time.Time { return LastSent(lastOut, []child{esp}) },
		Send: func(quiet, every time.Duration) {
			sent = append(sent, c.Elapsed())
			lastOut = c.Now()
		}}.Arm(&ts)
	c.RunUntil(time.Unix(25, 0)) // sends at 10 s and 20 s
	esp.tr = ike.Traffic{LastIn: time.Unix(26, 0), LastOut: time.Unix(27, 0)}
	c.RunUntil(time.Unix(35, 0)) // ESP at 27 s: nothing at 30 s, the next at 37 s
	c.RunUntil(time.Unix(38, 0))
	gone = true
	c.RunUntil(time.Unix(60, 0))
	want := []time.Duration{10 * time.Second, 20 * time.Second, 37 * time.Second}
	if !slices.Equal(sent, want) {
		t.Errorf("keep-alives at %v, want %v", sent, want)
	}
	if h := LastHeard(time.Unix(20, 0), []child{esp, {}}); !h.Equal(time.Unix(26, 0)) {
		t.Errorf("LastHeard %v, want the ESP's 26 s", h)
	}
}

func TestHalfOpen(t *testing.T) {
	var h HalfOpen
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	h.Add(a)
	h.Add(a)
	h.Add(b)
	h.Remove(a)
	if total, from := h.Count(a); total != 2 || from != 1 {
		t.Errorf("Count(a) = %d, %d; want 2, 1", total, from)
	}
	h.Remove(a)
	if _, from := h.Count(a); from != 0 || len(h.from) != 1 {
		t.Errorf("from a %d, %d addresses counted; want 0 and b alone", from, len(h.from))
	}
}

func TestFirstAndInOrder(t *testing.T) {
	type nonce struct{ n int }
	type notify struct{ typ int }
	ps := []any{&nonce{1}, &notify{5}, &notify{9}, &nonce{2}}
	if n := First[*nonce](ps, nil); n == nil || n.n != 1 {
		t.Errorf("first nonce %v", n)
	}
	if n := First(ps, func(n *notify) bool { return n.typ > 5 }); n == nil || n.typ != 9 {
		t.Errorf("first notify above 5: %v", n)
	}
	if n := First(ps, func(n *notify) bool { return n.typ > 9 }); n != nil {
		t.Errorf("first notify above 9: %v, want none", n)
	}
	sas := map[uint64]int{10: 3, 20: 1, 30: 2}
	if got := InOrder(sas, func(s int) int { return s }); !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("InOrder = %v", got)
	}
}

func TestEstablished(t *testing.T) {
	e := NewCore(ike.Env{}, "R1", 2)
	for _, c := range conns() {
		e.Add(c)
	}
	up := map[string]bool{"a": true}
	active := func(c *ike.Connection) string { return c.Name }
	for _, tc := range []struct{ conn, want, err string }{
		{"a", "a", ""},
		{"b", "", "ikev2: connection b has no established IKE SA"},
		{"c", "", `ikev2: no connection "c" on R1`},
	} {
		got, err := Established(e, tc.conn, "IKE SA", active, func(sa string) bool { return up[sa] })
		if got != tc.want || errText(err) != tc.err {
			t.Errorf("Established(%q) = %q, %q; want %q, %q", tc.conn, got, errText(err), tc.want, tc.err)
		}
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		c     *ike.Connection
		sent  int
		wait  time.Duration
		tries int
	}{
		{nil, 0, 2 * time.Second, 5},
		{nil, 2, 6480 * time.Millisecond, 5}, // 2 s × 1.8²
		{&ike.Connection{RetransmitTimeout: time.Second, RetransmitBase: 2, RetransmitTries: 3}, 3, 8 * time.Second, 3},
	} {
		wait, tries := Backoff(tc.c, tc.sent)
		if wait != tc.wait || tries != tc.tries {
			t.Errorf("Backoff(%v, %d) = %v, %d; want %v, %d", tc.c, tc.sent, wait, tries, tc.wait, tc.tries)
		}
	}
}
