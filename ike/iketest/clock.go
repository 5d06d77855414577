// Package iketest is what the tests of both IKE engines share: a virtual clock (Clock),
// an in-memory network of engines and attackers on it (Net), an observer that keeps
// what an engine reports as typed values (Recorder), and connections built from a few
// strings (Conn). ike/ikev1/ikev1test and ike/ikev2/ikev2test build their hostile peers
// on it, and the engines' own tests their networks.
//
// Nothing runs by itself: datagrams arrive and timers fire only in Run, in time order,
// those due at the same time in the order they were made. The same seed gives the same
// bytes.
//
// It imports the standard library and ike; only tests import it.
package iketest

import (
	"cmp"
	"container/heap"
	"slices"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// Start is the time a Clock starts at unless told otherwise.
var Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Clock is a virtual clock: an ike.Clock whose timers fire only in Run.
type Clock struct {
	start, now time.Time
	seq        uint64
	queue      eventQueue
}

// NewClock is a clock that starts at start.
func NewClock(start time.Time) *Clock { return &Clock{start: start, now: start} }

// Now is the virtual time.
func (c *Clock) Now() time.Time { return c.now }

// Elapsed is the virtual time since the start.
func (c *Clock) Elapsed() time.Duration { return c.now.Sub(c.start) }

// AfterFunc runs f after d, in Run (ike.Clock).
func (c *Clock) AfterFunc(d time.Duration, name string, f func()) ike.Timer {
	c.seq++
	ev := &event{at: c.now.Add(d), seq: c.seq, name: name, fn: f}
	heap.Push(&c.queue, ev)
	return ev
}

// Run fires what falls due within d from now, in time order, and leaves the clock at d
// from now.
func (c *Clock) Run(d time.Duration) { c.RunUntil(c.now.Add(d)) }

// RunUntil fires what falls due up to end, in time order, and leaves the clock at end.
func (c *Clock) RunUntil(end time.Time) {
	for c.queue.Len() > 0 && !c.queue[0].at.After(end) {
		ev := heap.Pop(&c.queue).(*event)
		if ev.stopped {
			continue
		}
		c.now = ev.at
		ev.stopped = true
		ev.fn()
	}
	c.now = end
}

// Pending lists the names of the timers that have not fired nor been stopped, soonest
// first.
func (c *Clock) Pending() []string {
	var evs []*event
	for _, ev := range c.queue {
		if !ev.stopped {
			evs = append(evs, ev)
		}
	}
	slices.SortFunc(evs, compare)
	names := make([]string, len(evs))
	for i, ev := range evs {
		names[i] = ev.name
	}
	return names
}

var _ ike.Clock = (*Clock)(nil)

// event is a pending timer or delivery; it is its own ike.Timer.
type event struct {
	at      time.Time
	seq     uint64
	name    string
	fn      func()
	stopped bool // stopped or fired
}

// Stop cancels the event; it reports whether it was still pending.
func (e *event) Stop() bool { was := !e.stopped; e.stopped = true; return was }

func compare(a, b *event) int {
	if c := a.at.Compare(b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// eventQueue orders events by time, then by the order they were made.
type eventQueue []*event

func (q eventQueue) Len() int           { return len(q) }
func (q eventQueue) Less(i, j int) bool { return compare(q[i], q[j]) < 0 }
func (q eventQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)        { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	ev := old[len(old)-1]
	*q = old[:len(old)-1]
	return ev
}
