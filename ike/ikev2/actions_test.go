package ikev2

import (
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// close_action start sets a child up again when the peer closes it or its IKE SA;
// dpd_action restart when the peer stops answering. Without them nothing follows.
func TestCloseAndDPDActions(t *testing.T) {
	for _, tc := range []struct {
		name       string
		close, dpd string
		act        func(w *world, b *Daemon)
		ikeUps     int // IKE SAs that came up on A
		childUps   int // Child SAs that came up on A
	}{
		{"close_action start, IKE SA deleted", "start", "", func(w *world, b *Daemon) { b.Delete("c", "") }, 2, 2},
		{"close_action start, Child SA deleted", "start", "", func(w *world, b *Daemon) { b.Delete("c", "net") }, 1, 2},
		{"close_action none", "", "", func(w *world, b *Daemon) { b.Delete("c", "") }, 1, 1},
		{"dpd_action restart", "", "restart", func(w *world, b *Daemon) {
			w.drop = func(dg ike.Datagram) bool { return w.Now().Before(time.Date(2026, 1, 1, 0, 0, 40, 0, time.UTC)) }
		}, 2, 2},
		{"dpd_action clear", "", "clear", func(w *world, b *Daemon) {
			w.drop = func(dg ike.Datagram) bool { return w.Now().Before(time.Date(2026, 1, 1, 0, 0, 40, 0, time.UTC)) }
		}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, e := []string{benchIKE}, []string{benchESP}
			w := newWorld(t)
			ac := conn(t, ipA, ipB, p, e, "k")
			ac.DPDDelay = 5 * time.Second
			ac.Children[0].CloseAction, ac.Children[0].DPDAction = tc.close, tc.dpd
			a, ra := w.add(ipA, ac, 1)
			b, _ := w.add(ipB, conn(t, ipB, ipA, p, e, "k"), 2)
			a.Initiate("c", "")
			w.run(time.Second)
			tc.act(w, b)
			w.run(time.Minute)
			if len(ra.ikeUp) != tc.ikeUps || len(ra.childUp) != tc.childUps {
				t.Errorf("A: %d IKE SAs and %d Child SAs came up, want %d and %d", len(ra.ikeUp), len(ra.childUp), tc.ikeUps, tc.childUps)
			}
		})
	}
}
