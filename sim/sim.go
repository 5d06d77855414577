package sim

import (
	"container/heap"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/sim/trace"
)

// Epoch is virtual time zero, as wall-clock time (pcap timestamps, certificate checks).
var Epoch = trace.Epoch

// Sim is the event loop: a virtual clock and a queue of scheduled callbacks, run one at
// a time in time order (ties in the order they were scheduled).
type Sim struct {
	now   time.Duration
	seq   uint64
	queue eventQueue
	seed  uint64
	Trace *trace.Trace
	// MaxEvents bounds a run (a scenario that loops forever ends with an error event).
	MaxEvents int
	handled   int
}

// New makes a simulator whose randomness all derives from seed.
func New(seed uint64) *Sim {
	return &Sim{seed: seed, Trace: &trace.Trace{}, MaxEvents: 2_000_000}
}

// Seed is the seed the simulator was made with.
func (s *Sim) Seed() uint64 { return s.seed }

// Now is the current virtual time since Epoch.
func (s *Sim) Now() time.Duration { return s.now }

// Time is the current virtual time as wall-clock time.
func (s *Sim) Time() time.Time { return Epoch.Add(s.now) }

// Scheduled is a pending callback.
type Scheduled struct {
	at    time.Duration
	seq   uint64
	fn    func()
	sim   *Sim
	index int // in the queue; -1 once it has run or is cancelled
}

// At is when the callback is due.
func (e *Scheduled) At() time.Duration { return e.at }

// Cancel removes the callback from the queue if it has not run; it reports whether it
// was pending.
func (e *Scheduled) Cancel() bool {
	if e.index < 0 {
		return false
	}
	heap.Remove(&e.sim.queue, e.index)
	e.fn = nil
	return true
}

// After schedules fn to run d from now (d < 0 counts as 0).
func (s *Sim) After(d time.Duration, fn func()) *Scheduled {
	if d < 0 {
		d = 0
	}
	s.seq++
	e := &Scheduled{at: s.now + d, seq: s.seq, fn: fn, sim: s}
	heap.Push(&s.queue, e)
	return e
}

// Step runs the next due callback; it reports false when the queue is empty or the
// next callback lies beyond until.
func (s *Sim) Step(until time.Duration) bool {
	if s.queue.Len() == 0 || s.queue[0].at > until {
		return false
	}
	e := heap.Pop(&s.queue).(*Scheduled)
	s.now = e.at
	s.handled++
	fn := e.fn
	e.fn = nil
	fn()
	return true
}

// Run runs callbacks until the queue is empty or the next one lies beyond until, then
// sets the clock to until. It stops early, with an error event, after MaxEvents.
func (s *Sim) Run(until time.Duration) {
	for s.Step(until) {
		if s.MaxEvents > 0 && s.handled >= s.MaxEvents {
			s.Trace.Emit(&trace.Event{T: trace.Seconds(s.now), Kind: trace.KindError, Node: trace.ScenarioNode,
				Failure: &trace.Failure{Reason: ike.FailInternal},
				Text:    "simulation stopped: more than the maximum of events (a loop in the scenario?)"})
			return
		}
	}
	if until > s.now {
		s.now = until
	}
}

// Pending reports how many callbacks are queued: neither run nor cancelled.
func (s *Sim) Pending() int { return s.queue.Len() }

type eventQueue []*Scheduled

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}
func (q *eventQueue) Push(x any) {
	e := x.(*Scheduled)
	e.index = len(*q)
	*q = append(*q, e)
}
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	*q = old[:len(old)-1]
	return e
}

// Rand is a deterministic random stream: an io.Reader for key material and helpers for
// the link models.
type Rand struct {
	src *rand.ChaCha8
	r   *rand.Rand
}

// Rand returns the stream named name, derived from the simulator's seed. Two calls with
// one name give two streams that produce the same values.
func (s *Sim) Rand(name string) *Rand {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], s.seed)
	h.Write(b[:])
	h.Write([]byte(name))
	var key [32]byte
	copy(key[:], h.Sum(nil))
	src := rand.NewChaCha8(key)
	return &Rand{src: src, r: rand.New(src)}
}

// Read fills p with random bytes; it never fails.
func (r *Rand) Read(p []byte) (int, error) { return r.src.Read(p) }

// Float64 returns a number in [0, 1).
func (r *Rand) Float64() float64 { return r.r.Float64() }

// Chance reports true with probability p.
func (r *Rand) Chance(p float64) bool { return p > 0 && r.r.Float64() < p }

// IntN returns a number in [0, n).
func (r *Rand) IntN(n int) int { return r.r.IntN(n) }
