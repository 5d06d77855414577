package ikev1

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// testNet joins IKEv1 daemons over an in-memory wire with a virtual clock: every
// datagram takes 10 ms, timers fire in order, nothing runs concurrently. A drop rule
// can lose datagrams; rewrite can play a NAT.
type testNet struct {
	t      *testing.T
	start  time.Time
	now    time.Time
	seq    int
	queue  []*testEvent
	nodes  map[netip.Addr]*testNode
	drop   func(from *testNode, dg ike.Datagram) bool
	dgrams []sentDatagram
}

type sentDatagram struct {
	from *testNode
	at   time.Time
	dg   ike.Datagram
}

type testEvent struct {
	at        time.Time
	seq       int
	fn        func()
	cancelled bool
	done      bool
}

func (e *testEvent) Stop() bool {
	pending := !e.cancelled && !e.done
	e.cancelled = true
	return pending
}

func newTestNet(t *testing.T) *testNet {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	return &testNet{t: t, start: start, now: start, nodes: map[netip.Addr]*testNode{}}
}

func (n *testNet) at(d time.Duration, fn func()) *testEvent {
	n.seq++
	e := &testEvent{at: n.now.Add(d), seq: n.seq, fn: fn}
	n.queue = append(n.queue, e)
	return e
}

// run processes events until the virtual clock passes until.
func (n *testNet) run(until time.Duration) {
	end := n.start.Add(until)
	for {
		sort.SliceStable(n.queue, func(i, j int) bool {
			if !n.queue[i].at.Equal(n.queue[j].at) {
				return n.queue[i].at.Before(n.queue[j].at)
			}
			return n.queue[i].seq < n.queue[j].seq
		})
		if len(n.queue) == 0 || n.queue[0].at.After(end) {
			n.now = end
			return
		}
		e := n.queue[0]
		n.queue = n.queue[1:]
		if e.cancelled {
			continue
		}
		n.now = e.at
		e.done = true
		e.fn()
	}
}

// testNode is one daemon with everything its environment reported.
type testNode struct {
	net      *testNet
	name     string
	addr     netip.Addr
	d        *Daemon
	actions  []string
	states   []string
	errors   []string
	dropped  []string
	ikeUp    []*ike.IKESAInfo
	ikeDown  []string
	childUp  []*ike.ChildSAInfo
	childDn  []*ike.ChildSAInfo
	vip      netip.Addr
	received int
	failed   []uint32 // reqids whose acquire failed
}

func (n *testNet) node(name string, addr string, conns ...*ike.Connection) *testNode {
	nd := &testNode{net: n, name: name, addr: netip.MustParseAddr(addr)}
	seed := uint64(len(n.nodes) + 1)
	env := ike.Env{Transport: nd, Clock: nd, Rand: rand.NewChaCha8([32]byte{byte(seed)}), Observer: nd}
	d, err := New(env, name, conns)
	if err != nil {
		n.t.Fatal(err)
	}
	nd.d = d
	n.nodes[nd.addr] = nd
	return nd
}

func (nd *testNode) Send(dg ike.Datagram) {
	n := nd.net
	n.dgrams = append(n.dgrams, sentDatagram{nd, n.now, dg})
	if n.drop != nil && n.drop(nd, dg) {
		return
	}
	to := n.nodes[dg.Remote.Addr()]
	if to == nil {
		return
	}
	data := append([]byte(nil), dg.Data...)
	n.at(10*time.Millisecond, func() { to.d.HandleDatagram(dg.Remote, dg.Local, data) })
}

func (nd *testNode) SendKeepalive(local, remote netip.AddrPort) {
	nd.actions = append(nd.actions, "keepalive")
}

func (nd *testNode) Now() time.Time { return nd.net.now }

func (nd *testNode) AfterFunc(d time.Duration, name string, f func()) ike.Timer {
	return nd.net.at(d, f)
}

func (nd *testNode) Action(text string) { nd.actions = append(nd.actions, text) }

func (nd *testNode) State(s ike.StateChange) {
	nd.states = append(nd.states, fmt.Sprintf("%s: %s → %s", s.Machine, s.From, s.To))
}

func (nd *testNode) NATDetected(n ike.NATInfo) { nd.actions = append(nd.actions, n.Text) }

func (nd *testNode) Received(dg ike.Datagram) { nd.received++ }

func (nd *testNode) Dropped(dg ike.Datagram, reason string) { nd.dropped = append(nd.dropped, reason) }

func (nd *testNode) IKESAUp(sa *ike.IKESAInfo) { nd.ikeUp = append(nd.ikeUp, sa) }

func (nd *testNode) IKESADown(sa *ike.IKESAInfo, reason string) {
	nd.ikeDown = append(nd.ikeDown, reason)
}

func (nd *testNode) ChildSAUp(sa *ike.ChildSAInfo) { nd.childUp = append(nd.childUp, sa) }

func (nd *testNode) ChildSADown(sa *ike.ChildSAInfo, reason string) {
	nd.childDn = append(nd.childDn, sa)
}

func (nd *testNode) Error(f ike.Failure) { nd.errors = append(nd.errors, f.Text) }

func (nd *testNode) AssignVirtualIP(a netip.Addr) { nd.vip = a }

func (nd *testNode) AcquireFailed(reqid uint32, reason string) { nd.failed = append(nd.failed, reqid) }

// has reports whether any recorded line of list contains every part.
func has(list []string, parts ...string) bool {
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

func mustProposal(t *testing.T, s string, proto ike.Protocol) ike.Proposal {
	t.Helper()
	p, err := ike.ParseProposal(s, proto)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ts(s string) []ike.TrafficSelector {
	if s == "" {
		return nil
	}
	return []ike.TrafficSelector{ike.TSFromPrefix(netip.MustParsePrefix(s))}
}

// sitePair makes the site-to-site connections of two gateways, 192.0.2.1 (10.1.0.0/24)
// and 192.0.2.2 (10.2.0.0/24), with the same proposals and pre-shared key on both.
func sitePair(t *testing.T, ikeProp, espProp string) (a, b *ike.Connection) {
	mk := func(name, local, remote, lid, rid, lts, rts string) *ike.Connection {
		id1, _ := ike.ParseIdentity(lid)
		id2, _ := ike.ParseIdentity(rid)
		return &ike.Connection{Name: name, Version: 1, LocalAddrs: []netip.Addr{netip.MustParseAddr(local)},
			RemoteAddrs: []netip.Addr{netip.MustParseAddr(remote)}, Proposals: []ike.Proposal{mustProposal(t, ikeProp, ike.ProtoIKE)},
			Local: ike.AuthConfig{Method: "psk", ID: id1, PSK: []byte("secret")}, Remote: ike.AuthConfig{Method: "psk", ID: id2, PSK: []byte("secret")},
			Children: []*ike.ChildConfig{{Name: "net", LocalTS: ts(lts), RemoteTS: ts(rts),
				ESPProposals: []ike.Proposal{mustProposal(t, espProp, ike.ProtoESP)}, StartAction: "trigger"}}}
	}
	return mk("a-b", "192.0.2.1", "192.0.2.2", "a.example", "b.example", "10.1.0.0/24", "10.2.0.0/24"),
		mk("b-a", "192.0.2.2", "192.0.2.1", "b.example", "a.example", "10.2.0.0/24", "10.1.0.0/24")
}

// checkDissections dissects every datagram sent, as its sender could read it: an
// encrypted message must decrypt to payloads without error, which fails if either side
// used the wrong IV anywhere in a chain.
func checkDissections(t *testing.T, n *testNet) {
	t.Helper()
	for i, s := range n.dgrams {
		if s.dg.Info == nil || s.dg.Info.Dissect == nil {
			t.Fatalf("datagram %d from %s has no dissection", i, s.from.name)
		}
		root := s.dg.Info.Dissect()
		root.Walk(func(f *ike.Field, _ int) {
			if f.Error != "" {
				t.Errorf("datagram %d from %s (%s): %s: %s", i, s.from.name, s.dg.Info.Summary, f.Name, f.Error)
			}
		})
		if strings.HasPrefix(s.dg.Info.Summary, "HDR*") && root.Find("Decrypted payloads") == nil {
			t.Errorf("datagram %d from %s (%s) does not show its decrypted payloads", i, s.from.name, s.dg.Info.Summary)
		}
	}
}
