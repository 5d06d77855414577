package ikev1

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/iketest"
)

// testNet joins IKEv1 daemons over an in-memory wire on a virtual clock (iketest.Net):
// every datagram takes 10 ms, timers fire in order, nothing runs concurrently. A drop
// rule can lose datagrams.
type testNet struct {
	*iketest.Net
	t      *testing.T
	nodes  map[netip.Addr]*testNode
	drop   func(from *testNode, dg ike.Datagram) bool
	dgrams []sentDatagram
}

type sentDatagram struct {
	from *testNode
	at   time.Time
	dg   ike.Datagram
}

func newTestNet(t *testing.T) *testNet {
	return &testNet{Net: iketest.NewNet(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 0), t: t, nodes: map[netip.Addr]*testNode{}}
}

// run processes events until the virtual clock passes until, from the start.
func (n *testNet) run(until time.Duration) { n.Run(until - n.Elapsed()) }

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
	env := ike.Env{Transport: nd, Clock: n, Rand: rand.NewChaCha8([32]byte{byte(seed)}), Observer: nd}
	d, err := New(env, name, conns)
	if err != nil {
		n.t.Fatal(err)
	}
	nd.d = d
	n.nodes[nd.addr] = nd
	n.Attach(nd.addr, d)
	return nd
}

func (nd *testNode) Send(dg ike.Datagram) {
	n := nd.net
	n.dgrams = append(n.dgrams, sentDatagram{nd, n.Now(), dg})
	if n.drop != nil && n.drop(nd, dg) {
		return
	}
	n.Deliver(dg)
}

func (nd *testNode) SendKeepalive(local, remote netip.AddrPort) {
	nd.actions = append(nd.actions, "keepalive")
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
var has = iketest.Has

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
