package iketest

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// Endpoint takes the datagrams the Net delivers to its address: an ike.Daemon, or an
// attacker.
type Endpoint interface {
	HandleDatagram(local, remote netip.AddrPort, data []byte)
}

// Net connects endpoints by IP address on a Clock. A datagram arrives Delay after it
// was sent, datagrams sent at the same time arrive in the order sent, and a datagram to
// an address with no endpoint is lost.
type Net struct {
	*Clock
	// Delay is how long a datagram travels (10 ms unless set).
	Delay time.Duration
	// Drop, when set, loses the datagrams for which it returns true.
	Drop func(ike.Datagram) bool

	seed uint64
	ends map[netip.Addr]Endpoint
	log  []ike.Datagram
}

// NewNet makes an empty network starting at start whose endpoints draw their
// randomness from seed.
func NewNet(start time.Time, seed uint64) *Net {
	return &Net{Clock: NewClock(start), Delay: 10 * time.Millisecond, seed: seed, ends: map[netip.Addr]Endpoint{}}
}

// Attach makes e receive the datagrams sent to addr.
func (n *Net) Attach(addr netip.Addr, e Endpoint) { n.ends[addr] = e }

// Env is the environment of an engine at addr: it sends into the Net, keeps the Net's
// time, draws from a random source seeded by the Net's seed and addr (Rand), and reports
// to obs.
func (n *Net) Env(addr netip.Addr, obs ike.Observer) ike.Env {
	p := port{n}
	return ike.Env{Transport: p, Clock: p, Rand: n.Rand(addr), Observer: obs}
}

// Rand is a random source seeded by the Net's seed and addr.
func (n *Net) Rand(addr netip.Addr) *rand.ChaCha8 {
	var s [32]byte
	binary.BigEndian.PutUint64(s[:], n.seed)
	a := addr.As16()
	copy(s[8:], a[:])
	return rand.NewChaCha8(s)
}

// Sent lists every datagram sent on the Net so far, lost or not, in the order sent.
func (n *Net) Sent() []ike.Datagram { return n.log }

// Send puts a datagram on the Net, from any source address: an attacker's forgeries go
// through here.
func (n *Net) Send(dg ike.Datagram) {
	n.log = append(n.log, dg)
	if n.Drop != nil && n.Drop(dg) {
		return
	}
	n.Deliver(dg)
}

// Deliver hands a copy of the datagram to the endpoint at its destination after Delay,
// neither logged nor subject to Drop.
func (n *Net) Deliver(dg ike.Datagram) {
	data := slices.Clone(dg.Data)
	n.AfterFunc(n.Delay, "", func() {
		if e := n.ends[dg.Remote.Addr()]; e != nil {
			e.HandleDatagram(dg.Remote, dg.Local, data)
		}
	})
}

// port is an engine's view of the Net: its transport and its clock.
type port struct{ n *Net }

func (p port) Send(dg ike.Datagram)                       { p.n.Send(dg) }
func (p port) SendKeepalive(local, remote netip.AddrPort) {}
func (p port) Now() time.Time                             { return p.n.Now() }
func (p port) AfterFunc(d time.Duration, name string, f func()) ike.Timer {
	return p.n.AfterFunc(d, name, f)
}

var (
	_ ike.Transport = port{}
	_ ike.Clock     = port{}
)
