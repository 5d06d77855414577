package ikev2

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// INITIAL_CONTACT and the uniqueness policies (swanctl.conf's unique), as strongSwan's
// check_uniqueness applies them on the responder.
func TestUniqueIDs(t *testing.T) {
	for _, tc := range []struct {
		unique  string
		restart bool // A restarts (a fresh daemon: INITIAL_CONTACT); else A adds a second IKE SA
		want    int  // IKE SAs B holds at the end
		deletes int  // Delete requests B sends
		refused bool // B answers AUTHENTICATION_FAILED
	}{
		{"", true, 1, 0, false},
		{"no", false, 2, 0, false},
		{"never", true, 2, 0, false},
		{"replace", true, 1, 0, false},
		{"replace", false, 1, 1, false},
		{"keep", false, 1, 0, true},
	} {
		name := tc.unique + map[bool]string{true: "/restart", false: "/second"}[tc.restart]
		t.Run(name, func(t *testing.T) {
			p, e := []string{benchIKE}, []string{benchESP}
			w := newWorld(t)
			a, _ := w.add(ipA, conn(t, ipA, ipB, p, e, "k"), 1)
			bc := conn(t, ipB, ipA, p, e, "k")
			bc.Unique = tc.unique
			b, rb := w.add(ipB, bc, 2)
			a.Initiate("c", "")
			w.run(time.Second)
			if tc.restart {
				a.Close()
				a, _ = w.add(ipA, conn(t, ipA, ipB, p, e, "k"), 9)
				a.Initiate("c", "")
			} else {
				a.startIKE(a.core.Conns[0], a.core.Conns[0].Children[0])
			}
			w.run(time.Minute)
			live := 0
			for _, sa := range b.sas {
				if sa.state == stateEstablished {
					live++
				}
			}
			if live != tc.want {
				t.Errorf("B holds %d IKE SAs, want %d", live, tc.want)
			}
			deletes, refused, ic := 0, false, 0
			for _, dg := range w.sent {
				m, err := Parse(dg.Data)
				if err != nil {
					continue
				}
				if dg.Local.Addr().String() == ipB && m.Exchange == INFORMATIONAL && !m.IsResponse() {
					deletes++
				}
			}
			for _, f := range rb.errors {
				if hasText([]string{f}, "unique = keep") {
					refused = true
				}
			}
			for _, a := range rb.actions {
				if hasText([]string{a}, "INITIAL_CONTACT") {
					ic++
				}
			}
			if deletes != tc.deletes || refused != tc.refused {
				t.Errorf("B sent %d Delete requests (want %d), refused %v (want %v)", deletes, tc.deletes, refused, tc.refused)
			}
			if tc.restart && tc.unique != "never" && ic != 1 {
				t.Errorf("B acted on INITIAL_CONTACT %d times, want once", ic)
			}
		})
	}
}

// TestInitialContactRemovesLeftoversInOrder: after a restart of its peer, a responder
// removes the peer's leftover IKE SAs in the order they were made, every time.
func TestInitialContactRemovesLeftoversInOrder(t *testing.T) {
	for range 10 {
		p, e := []string{benchIKE}, []string{benchESP}
		w := newWorld(t)
		a, _ := w.add(ipA, conn(t, ipA, ipB, p, e, "k"), 1)
		bc := conn(t, ipB, ipA, p, e, "k")
		bc.Unique = "never" // B keeps three IKE SAs with A
		_, rb := w.add(ipB, bc, 2)
		for range 3 {
			a.startIKE(a.core.Conns[0], a.core.Conns[0].Children[0])
			w.run(time.Second)
		}
		bc.Unique = ""
		a.Close()
		a, _ = w.add(ipA, conn(t, ipA, ipB, p, e, "k"), 9)
		mark := len(rb.states)
		a.Initiate("c", "")
		w.run(time.Second)
		var removed []string
		for _, s := range rb.states[mark:] {
			if machine, ok := strings.CutSuffix(s, " DESTROYED"); ok && strings.HasPrefix(machine, "IKE SA") {
				removed = append(removed, machine)
			}
		}
		if want := []string{"IKE SA c[1]", "IKE SA c[2]", "IKE SA c[3]"}; !slices.Equal(removed, want) {
			t.Fatalf("removed %q, want %q", removed, want)
		}
	}
}

// The responder's uniqueness check must not cost something for every other IKE SA of
// the node (a gateway with 10,000 road warriors checks each new one): with a thousand
// IKE SAs of other peers it allocates no more than with one.
func TestCheckUniqueCostsNothingPerSA(t *testing.T) {
	b, c := anyPeerGateway(t)
	allocs := func(n int) float64 {
		b.sas, b.peers = map[uint64]*ikeSA{}, peerIndex{}
		for i := range n {
			o := &ikeSA{d: b, conn: c, state: stateEstablished, serial: i + 1, ext: peer(i)}
			b.sas[uint64(i+1)] = o
			b.peers.add(o)
		}
		sa := &ikeSA{d: b, conn: c, state: stateConnecting, serial: n + 1, ext: peer(-1)}
		return testing.AllocsPerRun(5, func() {
			if !sa.checkUnique(false) {
				t.Fatal("a new peer's IKE SA was refused")
			}
		})
	}
	if one, many := allocs(1), allocs(1000); many > one {
		t.Errorf("checking one IKE SA against 1,000 others allocates %.0f times, against one %.0f", many, one)
	}
}

// IKE SAs that went down leave the index of peers: it holds no more than about twice
// the live ones, and still finds those.
func TestPeerIndexLetsDestroyedGo(t *testing.T) {
	b, c := anyPeerGateway(t)
	live := &ikeSA{d: b, conn: c, state: stateEstablished, ext: peer(-1)}
	b.sas[1] = live
	b.peers.add(live)
	for i := range 1000 {
		o := &ikeSA{d: b, conn: c, state: stateEstablished, ext: peer(i)}
		b.peers.add(o)
		o.state = stateDestroyed
	}
	if b.peers.n > 2*len(b.sas)+16 {
		t.Errorf("the index holds %d IKE SAs for %d live", b.peers.n, len(b.sas))
	}
	if got := b.peers.of(live.remoteID()); len(got) != 1 || got[0] != live {
		t.Errorf("the live IKE SA's peer has %d IKE SAs in the index", len(got))
	}
}

// anyPeerGateway is a responder whose connection takes any peer identity.
func anyPeerGateway(t *testing.T) (*Daemon, *ike.Connection) {
	w := newWorld(t)
	c := conn(t, ipB, ipA, []string{benchIKE}, []string{benchESP}, "k")
	c.Remote.ID = ike.Identity{} // %any: each peer's identity is the one it proved
	b, _ := w.add(ipB, c, 2)
	return b, c
}

// peer is the state of an IKE SA with road warrior i.
func peer(i int) ikeSAExt {
	return ikeSAExt{peerID: ike.Identity{Type: uint8(IDFQDN), Value: []byte(fmt.Sprintf("rw-%d.example", i))}}
}

// The duplicates a new IKE SA replaces go in the order they were made, not the order
// they came up: the second of two IKE SAs with one peer came up first, and the
// uniqueness check removes the first one first all the same.
func TestCheckUniqueRemovesInOrderMade(t *testing.T) {
	b, c := anyPeerGateway(t)
	var sas []*ikeSA
	for i := range 3 {
		sa := &ikeSA{d: b, conn: c, state: stateEstablished, serial: i + 1, ext: peer(0)}
		b.sas[uint64(i+1)] = sa
		sas = append(sas, sa)
	}
	for _, i := range []int{1, 2, 0} { // came up in this order
		b.peers.add(sas[i])
	}
	mark := len(b.env.Observer.(*recorder).states)
	n := &ikeSA{d: b, conn: c, state: stateConnecting, serial: 4, ext: peer(0)}
	if !n.checkUnique(true) {
		t.Fatal("INITIAL_CONTACT refused the new IKE SA")
	}
	removed := b.env.Observer.(*recorder).states[mark:]
	want := []string{"IKE SA c[1] DESTROYED", "IKE SA c[2] DESTROYED", "IKE SA c[3] DESTROYED"}
	if !slices.Equal(removed, want) {
		t.Errorf("removed %q, want %q", removed, want)
	}
}
