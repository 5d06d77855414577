package ikev2

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// stopLog is a clock whose timers note, when stopped, their names in order.
type stopLog struct {
	ike.Clock
	stopped *[]string
}

type loggedTimer struct {
	ike.Timer
	name    string
	stopped *[]string
}

func (c stopLog) AfterFunc(d time.Duration, name string, f func()) ike.Timer {
	return loggedTimer{c.Clock.AfterFunc(d, name, f), name, c.stopped}
}

func (t loggedTimer) Stop() bool {
	if !t.Timer.Stop() {
		return false
	}
	*t.stopped = append(*t.stopped, t.name)
	return true
}

// TestCloseStopsTimersInOrder closes a node with two IKE SAs, whose timers differ: the
// one it answered first, then the one it initiated. Their timers are stopped (each a
// trace event in the simulator) in the order the SAs were made, every time.
func TestCloseStopsTimersInOrder(t *testing.T) {
	const ipC = "192.0.2.3"
	p, esp := []string{"aes128-sha256-modp2048"}, []string{"aes128-sha256"}
	for range 20 {
		w := newWorld(t)
		a, _ := w.add(ipA, conn(t, ipA, ipB, p, esp, "k"), 1)
		w.add(ipC, conn(t, ipC, ipB, p, esp, "k"), 3)
		toA, toC := conn(t, ipB, ipA, p, esp, "k"), conn(t, ipB, ipC, p, esp, "k")
		toC.Name = "c2"
		for _, c := range []*ike.Connection{toA, toC} {
			c.RekeyTime, c.LifeTime = time.Hour, 2*time.Hour
		}
		var stopped []string
		rec := &recorder{}
		b, err := New(ike.Env{Transport: w, Clock: stopLog{w, &stopped}, Rand: rand.NewChaCha8([32]byte{2}), Observer: rec},
			ipB, []*ike.Connection{toA, toC})
		if err != nil {
			t.Fatal(err)
		}
		w.daemons[netip.MustParseAddr(ipB)] = b
		w.Attach(netip.MustParseAddr(ipB), b)
		a.Acquire(1)
		w.run(time.Second)
		b.Acquire(2)
		w.run(time.Second)
		if len(rec.ikeUp) != 2 {
			t.Fatalf("%d IKE SAs up at B, want 2: %v", len(rec.ikeUp), rec.errors)
		}
		stopped = nil
		b.Close()
		// The responder's SA has no rekey timer; the initiator's has.
		if want := []string{"IKE SA lifetime", "IKE SA lifetime", "IKE SA rekey"}; !slices.Equal(stopped, want) {
			t.Fatalf("Close stopped %q, want %q", stopped, want)
		}
	}
}
