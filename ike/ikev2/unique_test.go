package ikev2

import (
	"slices"
	"strings"
	"testing"
	"time"
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
