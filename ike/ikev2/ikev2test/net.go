// Package ikev2test is a hostile IKEv2 peer for tests, in the spirit of net/http/httptest
// and wireguard-go's conn/bindtest: an in-memory network on a manual clock (Net), an
// observer that keeps what an engine reports (Recorder), and an attacker (Peer) that
// speaks IKEv2 through the project's own codec.
//
// A Peer completes IKE_SA_INIT with the daemon under test, so that it holds the IKE
// SA's real keys, and then sends any exchange, correctly protected, at any point of the
// handshake. It forges unprotected messages that carry the victim's SPIs, replays and
// reorders what was sent, and acts as a rogue responder to a daemon that initiates.
//
// It imports the standard library, ike and ike/ikev2; only tests import it.
package ikev2test

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev2"
)

// Endpoint takes the datagrams the Net delivers to its address: an ike.Daemon, or a
// Peer.
type Endpoint interface {
	HandleDatagram(local, remote netip.AddrPort, data []byte)
}

// Net connects endpoints by IP address on a manual clock. A datagram arrives Delay after
// it was sent, datagrams sent at the same time arrive in the order sent, and a datagram
// to an address with no endpoint is lost. Nothing happens between calls to Run.
type Net struct {
	// Delay is how long a datagram travels (10 ms unless set).
	Delay time.Duration
	// Drop, when set, loses the datagrams for which it returns true.
	Drop func(ike.Datagram) bool

	seed  uint64
	now   time.Time
	seq   uint64
	queue eventQueue
	ends  map[netip.Addr]Endpoint
	log   []ike.Datagram
}

// NewNet makes an empty network whose endpoints draw their randomness from seed.
func NewNet(seed uint64) *Net {
	return &Net{Delay: 10 * time.Millisecond, seed: seed, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		ends: map[netip.Addr]Endpoint{}}
}

// Attach makes e receive the datagrams sent to addr.
func (n *Net) Attach(addr netip.Addr, e Endpoint) { n.ends[addr] = e }

// Env is the environment of an engine at addr: it sends into the Net, keeps the Net's
// time, draws from a random source seeded by the Net's seed and addr, and reports to obs.
func (n *Net) Env(addr netip.Addr, obs ike.Observer) ike.Env {
	p := port{n}
	return ike.Env{Transport: p, Clock: p, Rand: n.rand(addr), Observer: obs}
}

func (n *Net) rand(addr netip.Addr) *rand.ChaCha8 {
	var s [32]byte
	binary.BigEndian.PutUint64(s[:], n.seed)
	a := addr.As16()
	copy(s[8:], a[:])
	return rand.NewChaCha8(s)
}

// Daemon makes the IKEv2 engine of a node at addr with its connections, attached to the
// Net, and the Recorder it reports to.
func (n *Net) Daemon(addr string, conns ...*ike.Connection) (*ikev2.Daemon, *Recorder, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("ikev2test: %v", err)
	}
	rec := &Recorder{}
	d, err := ikev2.New(n.Env(a, rec), addr, conns)
	if err != nil {
		return nil, nil, err
	}
	n.Attach(a, d)
	return d, rec, nil
}

// Now is the Net's time.
func (n *Net) Now() time.Time { return n.now }

// Sent lists every datagram sent on the Net so far, lost or not, in the order sent.
func (n *Net) Sent() []ike.Datagram { return n.log }

// Send puts a datagram on the Net, from any source address: an attacker's forgeries go
// through here.
func (n *Net) Send(dg ike.Datagram) {
	n.log = append(n.log, dg)
	if n.Drop != nil && n.Drop(dg) {
		return
	}
	n.after(n.Delay, func() {
		if e := n.ends[dg.Remote.Addr()]; e != nil {
			e.HandleDatagram(dg.Remote, dg.Local, dg.Data)
		}
	})
}

// Run delivers the datagrams and fires the timers that fall due within d, in time
// order, and leaves the clock at d from now.
func (n *Net) Run(d time.Duration) {
	end := n.now.Add(d)
	for n.queue.Len() > 0 && !n.queue[0].at.After(end) {
		ev := heap.Pop(&n.queue).(*event)
		if ev.stopped {
			continue
		}
		n.now = ev.at
		ev.stopped = true
		ev.fn()
	}
	n.now = end
}

func (n *Net) after(d time.Duration, fn func()) *event {
	n.seq++
	ev := &event{at: n.now.Add(d), seq: n.seq, fn: fn}
	heap.Push(&n.queue, ev)
	return ev
}

// port is an engine's view of the Net: its transport and its clock.
type port struct{ n *Net }

func (p port) Send(dg ike.Datagram)                       { p.n.Send(dg) }
func (p port) SendKeepalive(local, remote netip.AddrPort) {}
func (p port) Now() time.Time                             { return p.n.now }
func (p port) AfterFunc(d time.Duration, _ string, f func()) ike.Timer {
	return p.n.after(d, f)
}

var (
	_ ike.Transport = port{}
	_ ike.Clock     = port{}
)

// event is a pending delivery or timer; it is its own ike.Timer.
type event struct {
	at      time.Time
	seq     uint64
	fn      func()
	stopped bool
}

func (e *event) Stop() bool { was := !e.stopped; e.stopped = true; return was }

// eventQueue orders events by time, then by the order they were made.
type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	ev := old[len(old)-1]
	*q = old[:len(old)-1]
	return ev
}
