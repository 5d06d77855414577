package iketest

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
)

func TestClockOrder(t *testing.T) {
	c := NewClock(Start)
	var fired []string
	at := func(d time.Duration, name string) ike.Timer {
		return c.AfterFunc(d, name, func() { fired = append(fired, name) })
	}
	at(2*time.Second, "b")
	at(time.Second, "a")
	at(2*time.Second, "c") // due with b: after it, made later
	stopped := at(1500*time.Millisecond, "stopped")
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop reports pending the first time only")
	}
	if got, want := c.Pending(), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("Pending %q, want %q", got, want)
	}
	c.Run(1500 * time.Millisecond)
	if c.Elapsed() != 1500*time.Millisecond || !slices.Equal(fired, []string{"a"}) {
		t.Errorf("after 1.5 s: %v elapsed, fired %q", c.Elapsed(), fired)
	}
	c.RunUntil(Start.Add(time.Minute))
	if !slices.Equal(fired, []string{"a", "b", "c"}) || len(c.Pending()) != 0 {
		t.Errorf("fired %q, pending %q", fired, c.Pending())
	}
}

type endpoint struct {
	n   *Net
	got []string
}

func (e *endpoint) HandleDatagram(local, remote netip.AddrPort, data []byte) {
	e.got = append(e.got, e.n.Elapsed().String()+" "+remote.String()+" "+string(data))
}

func TestNetDeliversAfterDelayUnlessDropped(t *testing.T) {
	n := NewNet(Start, 1)
	a, b := netip.MustParseAddrPort("192.0.2.1:500"), netip.MustParseAddrPort("192.0.2.2:500")
	e := &endpoint{n: n}
	n.Attach(b.Addr(), e)
	n.Drop = func(dg ike.Datagram) bool { return string(dg.Data) == "lost" }
	env := n.Env(a.Addr(), &Recorder{})
	data := []byte("one")
	env.Transport.Send(ike.Datagram{Local: a, Remote: b, Data: data})
	data[0] = 'X' // the Net took a copy
	n.Send(ike.Datagram{Local: a, Remote: b, Data: []byte("lost")})
	n.Send(ike.Datagram{Local: b, Remote: a, Data: []byte("nobody")})
	n.Run(5 * time.Millisecond)
	if len(e.got) != 0 {
		t.Errorf("delivered before the delay: %q", e.got)
	}
	n.Run(time.Second)
	if want := []string{"10ms 192.0.2.1:500 one"}; !slices.Equal(e.got, want) {
		t.Errorf("delivered %q, want %q", e.got, want)
	}
	if len(n.Sent()) != 3 {
		t.Errorf("%d datagrams logged, want all 3", len(n.Sent()))
	}
	r1, r2 := n.Rand(a.Addr()), NewNet(Start, 1).Rand(a.Addr())
	if r1.Uint64() != r2.Uint64() || r1.Uint64() == n.Rand(b.Addr()).Uint64() {
		t.Error("the random sources are not per seed and address")
	}
}

func TestRecorder(t *testing.T) {
	r := &Recorder{}
	r.Action("start IKE")
	mark := r.Mark()
	r.State(ike.StateChange{Machine: "IKE SA c[1]", From: "CREATED", To: "CONNECTING"})
	r.Dropped(ike.Datagram{Data: make([]byte, 7)}, "no IKE SA with SPI 1234")
	r.Error(ike.Failure{Text: "AUTHENTICATION_FAILED", Notify: "AUTHENTICATION_FAILED"})
	if got := r.Since(mark); len(got) != 3 || got[0].Text != "IKE SA c[1]: CREATED → CONNECTING" {
		t.Errorf("Since(mark) = %v", got)
	}
	if !r.Has(0, KindAction, "start") || r.Has(mark, KindAction, "start") || !r.DroppedFor("SPI 1234") || r.DroppedFor("cookie") {
		t.Error("Has or DroppedFor disagree with the log")
	}
	if r.LastState("c[1]") != "CONNECTING" || r.LastState("d[1]") != "" || len(r.Errors) != 1 || r.Errors[0].Notify != "AUTHENTICATION_FAILED" {
		t.Errorf("typed values: state %q, errors %v", r.LastState("c[1]"), r.Errors)
	}
	if Summary(r.Drops[0].Datagram) != "7 bytes" {
		t.Errorf("summary %q", Summary(r.Drops[0].Datagram))
	}
}

func TestPSK(t *testing.T) {
	l, r := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	c, err := PSK{Name: "c", Version: 2, Local: l, Remote: r, LocalID: AddrID(l), RemoteID: AddrID(r), Key: "k",
		IKE: "aes128-sha256-modp2048", ESP: "aes128-sha256", LocalTS: netip.MustParsePrefix("10.1.0.0/24"),
		RemoteTS: netip.MustParsePrefix("10.2.0.0/24"), StartAction: ike.StartTrigger}.Connection()
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Local.PSK) != "k" || c.Remote.ID.String() != AddrID(r).String() || len(c.Children) != 1 ||
		c.Children[0].StartAction != ike.StartTrigger || c.Children[0].RemoteTS[0] != ike.TSFromPrefix(netip.MustParsePrefix("10.2.0.0/24")) {
		t.Errorf("connection %+v", c)
	}
	if _, err := (PSK{IKE: "aes128-nonsense", ESP: "aes128-sha256"}).Connection(); err == nil {
		t.Error("a bad proposal gives no error")
	}
}
