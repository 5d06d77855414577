package daemon

import (
	"maps"
	"slices"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// Timers are an SA's named timers on the engine's clock (retransmission aside): DPD,
// rekey, lifetime, NAT keep-alive. Starting a timer under a name in use replaces it.
type Timers struct {
	clock ike.Clock
	m     map[string]ike.Timer
}

// NewTimers makes an SA's timers on clock.
func NewTimers(clock ike.Clock) Timers { return Timers{clock: clock, m: map[string]ike.Timer{}} }

// Start runs f after d, under name.
func (t *Timers) Start(name string, d time.Duration, f func()) {
	if old := t.m[name]; old != nil {
		old.Stop()
	}
	t.m[name] = t.clock.AfterFunc(d, name, func() {
		delete(t.m, name)
		f()
	})
}

// Stop cancels the timer of that name, if it runs.
func (t *Timers) Stop(name string) {
	if old := t.m[name]; old != nil {
		old.Stop()
		delete(t.m, name)
	}
}

// Running reports whether the timer of that name runs.
func (t *Timers) Running(name string) bool { return t.m[name] != nil }

// StopAll cancels every timer, in the order of their names so that runs stay
// reproducible (each cancel is a trace event).
func (t *Timers) StopAll() {
	for _, name := range slices.Sorted(maps.Keys(t.m)) {
		t.Stop(name)
	}
}

// Keepalive is the NAT keep-alive of an SA behind a NAT (RFC 3948, Section 2.3: one
// 0xFF byte on port 4500). As strongSwan's send_keepalive, one goes out only after
// Every with nothing sent, IKE or ESP, since any packet refreshes the NAT mapping.
type Keepalive struct {
	Every    time.Duration    // 0: DefaultKeepalive
	Gone     func() bool      // the SA has ended: no more keep-alives
	LastSent func() time.Time // when the SA last sent anything
	// Send says why and sends one keep-alive; quiet is how long nothing was sent.
	Send func(quiet, every time.Duration)
}

// Arm starts the keep-alive timer among the SA's timers.
func (k Keepalive) Arm(t *Timers) {
	every := k.Every
	if every <= 0 {
		every = DefaultKeepalive
	}
	const name = "NAT keep-alive"
	var ka func()
	ka = func() {
		if k.Gone() {
			return
		}
		quiet := t.clock.Now().Sub(k.LastSent())
		if quiet < every {
			t.Start(name, every-quiet, ka)
			return
		}
		k.Send(quiet, every)
		t.Start(name, every, ka)
	}
	t.Start(name, every, ka)
}

// Trafficker is a Child SA whose ESP traffic the host counts (ike.TrafficHost).
type Trafficker interface {
	Traffic() (ike.Traffic, bool)
}

// Traffic is what the host counted of the ESP of the SA pair spiIn, spiOut, and
// whether the host counts at all.
func Traffic(obs ike.Observer, spiIn, spiOut uint32) (ike.Traffic, bool) {
	h, ok := obs.(ike.TrafficHost)
	if !ok {
		return ike.Traffic{}, false
	}
	return h.ChildSATraffic(spiIn, spiOut), true
}

// LastHeard is when the peer was last heard from: last, when its last IKE message
// came, or ESP on one of the children.
func LastHeard[C Trafficker](last time.Time, children []C) time.Time {
	return latest(last, children, func(t ike.Traffic) time.Time { return t.LastIn })
}

// LastSent is when this side last sent the peer anything: last, its last IKE message
// or NAT keep-alive, or ESP on one of the children.
func LastSent[C Trafficker](last time.Time, children []C) time.Time {
	return latest(last, children, func(t ike.Traffic) time.Time { return t.LastOut })
}

// latest is the latest of last and the children's traffic times.
func latest[C Trafficker](last time.Time, children []C, at func(ike.Traffic) time.Time) time.Time {
	for _, ch := range children {
		if tr, ok := ch.Traffic(); ok && at(tr).After(last) {
			last = at(tr)
		}
	}
	return last
}
