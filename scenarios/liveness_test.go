package scenarios

import (
	"slices"
	"testing"
	"time"

	"github.com/ikesim/ikesim/sim/trace"
)

// sentBy lists the messages of proto that node made, with their times.
func sentBy(ev []*trace.Event, node, proto string, notify string) []time.Duration {
	var out []time.Duration
	for _, e := range ev {
		if e.Kind == trace.KindMessage && !e.Forwarded() && e.From() == node && e.Proto() == proto &&
			(notify == "" || slices.Contains(e.Notifies(), notify)) {
			out = append(out, time.Duration(e.T))
		}
	}
	return out
}

func within(ts []time.Duration, from, until time.Duration) int {
	n := 0
	for _, t := range ts {
		if t >= from && t < until {
			n++
		}
	}
	return n
}

// IKEv1 liveness as strongSwan does it: ESP that comes in suppresses R-U-THERE, NAT
// keep-alives wait for a pause in what goes out, dpd_timeout says when the silent peer
// is dead, and dpd_action restart sets the tunnel up again.
func TestIKEv1LivenessAndKeepalives(t *testing.T) {
	sc, err := Load("ikev1-nat-dpd")
	if err != nil {
		t.Fatal(err)
	}
	f := sc.File
	client := f.Connections["client"]["office"]
	client.DPDTimeout = Duration(20 * time.Second)
	client.Keepalive = Duration(20 * time.Second)
	client.Children["office-lan"].DPDAction = "restart"
	f.Timeline[0].Ping.Count = 25 // 0 to 24 s; the link goes down at 30 s
	r, err := Build(sc, sc.Seed)
	if err != nil {
		t.Fatal(err)
	}
	r.Execute()
	ev := r.Sim.Trace.Events
	rut := sentBy(ev, "client", "ikev1", "R-U-THERE")
	if n := within(rut, 0, 30*time.Second); n != 0 {
		t.Errorf("%d R-U-THERE while echo replies came in every second", n)
	}
	if within(rut, 34*time.Second, 36*time.Second) != 1 {
		t.Errorf("no R-U-THERE 10 s after the last echo reply: %v", rut)
	}
	// ESP goes out every second to 24 s, then R-U-THEREs: nothing is silent for 20 s
	// (the built-in run, with 3 pings only, sends one at 22 s).
	if ka := sentBy(ev, "client", "nat-keepalive", ""); len(ka) != 0 {
		t.Errorf("NAT keep-alives although something went out within every 20 s: %v", ka)
	}
	var dead time.Duration
	for _, e := range ev {
		if e.Kind == trace.KindError && e.Node == "client" && e.Failure != nil && e.Failure.Reason == "timeout" {
			dead = time.Duration(e.T)
			break
		}
	}
	// The last echo reply came at about 24 s: dpd_timeout 20 s ends the peer at 44 s
	// or at the next R-U-THERE retry after it.
	if dead < 44*time.Second || dead > 47*time.Second {
		t.Errorf("the peer was declared dead at %s, want 44 s to 47 s (dpd_timeout 20 s after 24 s)", dead)
	}
	if mm := sentBy(ev, "client", "ikev1", ""); within(mm, dead, dead+time.Second) == 0 {
		t.Errorf("dpd_action restart: no new main mode right after %s", dead)
	}
}

// IKEv2 NAT keep-alives go out only after keepalive with nothing sent.
func TestIKEv2KeepalivesWaitForSilence(t *testing.T) {
	sc, err := Load("ikev2-nat")
	if err != nil {
		t.Fatal(err)
	}
	sc.File.Timeline[0].Ping.Count = 30 // 0 to 29 s, keepalive 20 s
	r, err := Build(sc, sc.Seed)
	if err != nil {
		t.Fatal(err)
	}
	r.Execute()
	ka := sentBy(r.Sim.Trace.Events, "gw-a", "nat-keepalive", "")
	if n := within(ka, 0, 49*time.Second); n != 0 {
		t.Errorf("%d NAT keep-alives within 20 s of ESP going out: %v", n, ka)
	}
	if within(ka, 49*time.Second, 51*time.Second) != 1 {
		t.Errorf("no NAT keep-alive 20 s after the last packet: %v", ka)
	}
}

// A node's charon keep_alive is the NAT keep-alive interval of its connections that set
// none of their own.
func TestCharonKeepAlive(t *testing.T) {
	sc, err := Load("ikev2-nat")
	if err != nil {
		t.Fatal(err)
	}
	for i := range sc.File.Topology.Nodes {
		if n := &sc.File.Topology.Nodes[i]; n.Name == "gw-a" {
			n.Charon = &CharonSpec{KeepAlive: Duration(7 * time.Second)}
		}
	}
	for _, c := range sc.File.Connections["gw-a"] {
		c.Keepalive = 0
	}
	r, err := Build(sc, sc.Seed)
	if err != nil {
		t.Fatal(err)
	}
	r.Execute()
	// The pings end at about 2 s: the first keep-alive 7 s later.
	ka := sentBy(r.Sim.Trace.Events, "gw-a", "nat-keepalive", "")
	if len(ka) == 0 || ka[0] < 9*time.Second || ka[0] > 10*time.Second {
		t.Errorf("keep-alives at %v, want the first 7 s after the last ping", ka)
	}
}
