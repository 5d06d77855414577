// Package ikev1test puts an IKEv1 engine in front of a peer that a test controls message
// by message, in the spirit of net/http/httptest: a Net holds the engine under test (the
// victim) on a virtual clock, and Peers talk to it with real bytes and real keys. A peer
// completes main or aggressive mode as initiator or as responder (a rogue responder when
// the victim initiates), then sends any exchange protected by the ISAKMP SA it holds, with
// the right HASH or a wrong one, at any point; forges messages with the victim's cookies;
// and replays or reorders what it sent. Everything is built with package ikev1's own
// codec and key derivation.
//
// Nothing runs by itself: a peer's send hands the datagram to the victim at once, the
// victim's answers wait in the inbox of the peer they are addressed to, and the victim's
// timers fire only in Net.Advance. A test decides every interleaving, and the same seed
// gives the same bytes.
//
// It imports ike, ike/ikev1 and ike/iketest (the virtual clock and the recorder it shares
// with ikev2test), and nothing of the simulator.
package ikev1test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/iketest"
	"github.com/ikesim/ikesim/ike/ikev1"
)

// Net is one victim engine, the peers that talk to it and a virtual clock.
type Net struct {
	clock *iketest.Clock
	seed  uint64
	peers map[netip.Addr]*Peer
	// Victim is the engine under test.
	Victim *Victim
}

// Kinds of Event.
const (
	KindAction        = iketest.KindAction
	KindState         = iketest.KindState
	KindReceived      = iketest.KindReceived // a datagram the engine accepted
	KindDropped       = iketest.KindDropped  // a datagram the engine discarded, with the reason in Text
	KindError         = iketest.KindError
	KindSent          = iketest.KindSent
	KindIKESAUp       = iketest.KindIKESAUp
	KindIKESADown     = iketest.KindIKESADown
	KindChildSAUp     = iketest.KindChildSAUp
	KindChildSADown   = iketest.KindChildSADown
	KindAcquireFailed = iketest.KindAcquireFailed
	KindVirtualIP     = iketest.KindVirtualIP
	KindKeepalive     = iketest.KindKeepalive
	KindNAT           = iketest.KindNAT // what NAT detection found
)

// Event is one report of the victim, in the order made.
type Event = iketest.Event

// Victim is the engine under test and everything it reported (Log, Mark, Since, Has,
// LastState: iketest.Recorder), the datagrams it sent among them.
type Victim struct {
	iketest.Recorder
	net  *Net
	Addr netip.Addr
	D    *ikev1.Daemon
}

// NewNet starts the IKEv1 engine of conns at addr, with randomness seeded by seed.
func NewNet(addr netip.Addr, conns []*ike.Connection, seed uint64) (*Net, error) {
	n := &Net{clock: iketest.NewClock(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)), seed: seed, peers: map[netip.Addr]*Peer{}}
	v := &Victim{net: n, Addr: addr}
	env := ike.Env{Transport: v, Clock: n.clock, Rand: n.rand("victim"), Observer: v}
	d, err := ikev1.New(env, "victim", conns)
	if err != nil {
		return nil, err
	}
	v.D, n.Victim = d, v
	return n, nil
}

// rand is a seeded stream for one party.
func (n *Net) rand(name string) *rand.ChaCha8 {
	var s [32]byte
	copy(s[:], name)
	for i := range 8 {
		s[24+i] = byte(n.seed >> (8 * i))
	}
	return rand.NewChaCha8(s)
}

// Now is the virtual time.
func (n *Net) Now() time.Time { return n.clock.Now() }

// Elapsed is the virtual time since the start.
func (n *Net) Elapsed() time.Duration { return n.clock.Elapsed() }

// Advance moves the clock by d, firing the victim's timers that fall due on the way in
// time order.
func (n *Net) Advance(d time.Duration) { n.clock.Run(d) }

// Pending lists the names of the victim's timers that have not fired, soonest first.
func (n *Net) Pending() []string { return n.clock.Pending() }

// deliver hands a datagram to the victim.
func (n *Net) deliver(from, to netip.AddrPort, data []byte) {
	n.Victim.D.HandleDatagram(to, from, slices.Clone(data))
}

// The victim's transport; the Recorder is its observer.

// Send routes a datagram of the victim to the peer at its destination address.
func (v *Victim) Send(dg ike.Datagram) {
	dg.Data = slices.Clone(dg.Data)
	v.Record(Event{Kind: KindSent, Text: iketest.Summary(dg), Datagram: dg})
	if p := v.net.peers[dg.Remote.Addr()]; p != nil {
		p.receive(dg)
	}
}

func (v *Victim) SendKeepalive(local, remote netip.AddrPort) {
	v.Record(Event{Kind: KindKeepalive, Text: fmt.Sprintf("%v → %v", local, remote)})
}

var (
	_ ike.Transport     = (*Victim)(nil)
	_ ike.Observer      = (*Victim)(nil)
	_ ike.AcquireHost   = (*Victim)(nil)
	_ ike.VirtualIPHost = (*Victim)(nil)
)

// SiteToSite is a connection of the victim at local to a peer at remote: pre-shared key
// psk, identities by address, phase 1 proposal ikeProposal, and one child "net" between
// localTS and remoteTS with ESP proposal espProposal.
func SiteToSite(local, remote netip.Addr, psk, ikeProposal, espProposal, localTS, remoteTS string) (*ike.Connection, error) {
	lts, err := netip.ParsePrefix(localTS)
	if err != nil {
		return nil, err
	}
	rts, err := netip.ParsePrefix(remoteTS)
	if err != nil {
		return nil, err
	}
	return iketest.PSK{Name: "site", Version: 1, Local: local, Remote: remote, LocalID: AddrID(local), RemoteID: AddrID(remote),
		Key: psk, IKE: ikeProposal, ESP: espProposal, LocalTS: lts, RemoteTS: rts}.Connection()
}

// AddrID is the identity of an address (ID_IPV4_ADDR or ID_IPV6_ADDR).
func AddrID(a netip.Addr) ike.Identity { return iketest.AddrID(a) }
