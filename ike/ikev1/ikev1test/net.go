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
// It imports ike and ike/ikev1, and nothing of the simulator.
package ikev1test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev1"
)

// Net is one victim engine, the peers that talk to it and a virtual clock.
type Net struct {
	start, now time.Time
	seq        int
	timers     []*timer
	seed       uint64
	peers      map[netip.Addr]*Peer
	// Victim is the engine under test.
	Victim *Victim
}

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

// Event is one report of the victim, in the order made.
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

// Victim is the engine under test and everything it reported.
type Victim struct {
	net  *Net
	Addr netip.Addr
	D    *ikev1.Daemon
	Log  []Event
}

// NewNet starts the IKEv1 engine of conns at addr, with randomness seeded by seed.
func NewNet(addr netip.Addr, conns []*ike.Connection, seed uint64) (*Net, error) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	n := &Net{start: start, now: start, seed: seed, peers: map[netip.Addr]*Peer{}}
	v := &Victim{net: n, Addr: addr}
	env := ike.Env{Transport: v, Clock: v, Rand: n.rand("victim"), Observer: v}
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
func (n *Net) Now() time.Time { return n.now }

// Elapsed is the virtual time since the start.
func (n *Net) Elapsed() time.Duration { return n.now.Sub(n.start) }

// Advance moves the clock by d, firing the victim's timers that fall due on the way in
// time order.
func (n *Net) Advance(d time.Duration) {
	end := n.now.Add(d)
	for {
		next := -1
		for i, t := range n.timers {
			if !t.done && !t.at.After(end) && (next < 0 || t.at.Before(n.timers[next].at) ||
				(t.at.Equal(n.timers[next].at) && t.seq < n.timers[next].seq)) {
				next = i
			}
		}
		if next < 0 {
			break
		}
		t := n.timers[next]
		n.timers = slices.Delete(n.timers, next, next+1)
		t.done = true
		n.now = t.at
		t.f()
	}
	n.now = end
}

// Pending lists the names of the victim's timers that have not fired, soonest first.
func (n *Net) Pending() []string {
	ts := slices.Clone(n.timers)
	slices.SortStableFunc(ts, func(a, b *timer) int { return a.at.Compare(b.at) })
	var names []string
	for _, t := range ts {
		names = append(names, t.name)
	}
	return names
}

type timer struct {
	n    *Net
	at   time.Time
	seq  int
	name string
	f    func()
	done bool
}

func (t *timer) Stop() bool {
	if t.done {
		return false
	}
	t.done = true
	t.n.timers = slices.DeleteFunc(t.n.timers, func(x *timer) bool { return x == t })
	return true
}

// deliver hands a datagram to the victim.
func (n *Net) deliver(from, to netip.AddrPort, data []byte) {
	n.Victim.D.HandleDatagram(to, from, slices.Clone(data))
}

// The victim's environment: ike.Transport, ike.Clock, ike.Observer and the optional
// host interfaces.

func (v *Victim) log(e Event) { v.Log = append(v.Log, e) }

// Send routes a datagram of the victim to the peer at its destination address.
func (v *Victim) Send(dg ike.Datagram) {
	dg.Data = slices.Clone(dg.Data)
	v.log(Event{Kind: KindSent, Text: summary(dg), Datagram: dg})
	if p := v.net.peers[dg.Remote.Addr()]; p != nil {
		p.receive(dg)
	}
}

func (v *Victim) SendKeepalive(local, remote netip.AddrPort) {
	v.log(Event{Kind: KindKeepalive, Text: fmt.Sprintf("%v → %v", local, remote)})
}

func (v *Victim) Now() time.Time { return v.net.now }

func (v *Victim) AfterFunc(d time.Duration, name string, f func()) ike.Timer {
	n := v.net
	n.seq++
	t := &timer{n: n, at: n.now.Add(d), seq: n.seq, name: name, f: f}
	n.timers = append(n.timers, t)
	return t
}

func (v *Victim) Action(text string) { v.log(Event{Kind: KindAction, Text: text}) }

func (v *Victim) State(c ike.StateChange) {
	v.log(Event{Kind: KindState, Text: fmt.Sprintf("%s: %s → %s", c.Machine, c.From, c.To), Machine: c.Machine, From: c.From, To: c.To})
}

func (v *Victim) Received(dg ike.Datagram) {
	v.log(Event{Kind: KindReceived, Text: summary(dg), Datagram: dg})
}

func (v *Victim) Dropped(dg ike.Datagram, reason string) {
	v.log(Event{Kind: KindDropped, Text: reason, Datagram: dg})
}

func (v *Victim) IKESAUp(sa *ike.IKESAInfo) {
	v.log(Event{Kind: KindIKESAUp, Text: fmt.Sprintf("%016x/%016x", sa.SPIi, sa.SPIr), IKESA: sa})
}

func (v *Victim) IKESADown(sa *ike.IKESAInfo, reason string) {
	v.log(Event{Kind: KindIKESADown, Text: reason, IKESA: sa})
}

func (v *Victim) ChildSAUp(sa *ike.ChildSAInfo) {
	v.log(Event{Kind: KindChildSAUp, Text: fmt.Sprintf("%s in %08x out %08x", sa.Child, sa.SPIIn, sa.SPIOut), ChildSA: sa})
}

func (v *Victim) ChildSADown(sa *ike.ChildSAInfo, reason string) {
	v.log(Event{Kind: KindChildSADown, Text: reason, ChildSA: sa})
}

func (v *Victim) Error(f ike.Failure) { v.log(Event{Kind: KindError, Text: f.Text, Failure: &f}) }

func (v *Victim) NATDetected(n ike.NATInfo) { v.log(Event{Kind: KindNAT, Text: n.Text}) }

func (v *Victim) AcquireFailed(reqid uint32, reason string) {
	v.log(Event{Kind: KindAcquireFailed, Text: fmt.Sprintf("reqid %d: %s", reqid, reason)})
}

func (v *Victim) AssignVirtualIP(a netip.Addr) {
	v.log(Event{Kind: KindVirtualIP, Text: a.String()})
}

var (
	_ ike.Transport     = (*Victim)(nil)
	_ ike.Clock         = (*Victim)(nil)
	_ ike.Observer      = (*Victim)(nil)
	_ ike.AcquireHost   = (*Victim)(nil)
	_ ike.VirtualIPHost = (*Victim)(nil)
)

func summary(dg ike.Datagram) string {
	if dg.Info == nil {
		return fmt.Sprintf("%d bytes", len(dg.Data))
	}
	return dg.Info.Exchange + " " + dg.Info.Summary
}

// Mark is the position of the next event: Since(Mark()) later gives what happened in
// between.
func (v *Victim) Mark() int { return len(v.Log) }

// Since returns the events from position mark on, of the given kinds (all when none).
func (v *Victim) Since(mark int, kinds ...string) []Event {
	var out []Event
	for _, e := range v.Log[min(mark, len(v.Log)):] {
		if len(kinds) == 0 || slices.Contains(kinds, e.Kind) {
			out = append(out, e)
		}
	}
	return out
}

// Texts returns the Text of the events from mark on of one kind.
func (v *Victim) Texts(mark int, kind string) []string {
	var out []string
	for _, e := range v.Since(mark, kind) {
		out = append(out, e.Text)
	}
	return out
}

// Has reports whether an event of kind from mark on has a Text containing every part.
func (v *Victim) Has(mark int, kind string, parts ...string) bool {
	for _, t := range v.Texts(mark, kind) {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(t, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// LastState returns the state a machine of the victim whose name contains machine was
// last put in, or "" when none was.
func (v *Victim) LastState(machine string) string {
	s := ""
	for _, e := range v.Log {
		if e.Kind == KindState && strings.Contains(e.Machine, machine) {
			s = e.To
		}
	}
	return s
}

// SiteToSite is a connection of the victim at local to a peer at remote: pre-shared key
// psk, identities by address, phase 1 proposal ikeProposal, and one child "net" between
// localTS and remoteTS with ESP proposal espProposal.
func SiteToSite(local, remote netip.Addr, psk, ikeProposal, espProposal, localTS, remoteTS string) (*ike.Connection, error) {
	ikeP, err := ike.ParseProposal(ikeProposal, ike.ProtoIKE)
	if err != nil {
		return nil, err
	}
	espP, err := ike.ParseProposal(espProposal, ike.ProtoESP)
	if err != nil {
		return nil, err
	}
	lts, err := netip.ParsePrefix(localTS)
	if err != nil {
		return nil, err
	}
	rts, err := netip.ParsePrefix(remoteTS)
	if err != nil {
		return nil, err
	}
	return &ike.Connection{Name: "site", Version: 1, LocalAddrs: []netip.Addr{local}, RemoteAddrs: []netip.Addr{remote},
		Proposals: []ike.Proposal{ikeP},
		Local:     ike.AuthConfig{Method: "psk", ID: AddrID(local), PSK: []byte(psk)},
		Remote:    ike.AuthConfig{Method: "psk", ID: AddrID(remote), PSK: []byte(psk)},
		Children: []*ike.ChildConfig{{Name: "net", LocalTS: []ike.TrafficSelector{ike.TSFromPrefix(lts)},
			RemoteTS: []ike.TrafficSelector{ike.TSFromPrefix(rts)}, ESPProposals: []ike.Proposal{espP}}}}, nil
}

// AddrID is the identity of an address (ID_IPV4_ADDR or ID_IPV6_ADDR).
func AddrID(a netip.Addr) ike.Identity {
	id, _ := ike.ParseIdentity(a.String())
	return id
}
