// Package sweep asks of a scenario "what if this message is lost?": it runs the
// scenario once per fault (drop, duplicate, delay past the retransmission timeout,
// corrupt) on each IKE message of its fault-free run, and tabulates the outcomes:
// message × fault → the expectations met, the SAs up, or a named failure, with the time
// the run converged. A run that neither converges nor fails by the scenario's end is a
// finding. The runs are independent, so a pool of workers, one per core, shares them.
//
// It sits on floor 4 with package scenarios, which it drives; cmd/ikesim's sweep command
// prints its table.
package sweep

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// Faults are the faults a sweep applies, in the order of the table's columns.
var Faults = []string{"drop", "duplicate", "delay", "corrupt"}

// Outcome kinds.
const (
	Expected = "expected" // every expectation of the scenario is met
	// Up: every node brought up the kinds of SA (IKE SA, Child SA, per connection and
	// child) it brought up in the fault-free run, though an expectation is not met (a
	// count of messages, a lost ping).
	Up      = "up"
	Failed  = "failed"  // the SAs did not all come up, and the run reported a failure
	Finding = "finding" // the SAs did not all come up, and no failure was reported: a hang
)

// Message is one IKE message of the fault-free run: a row of the table. Nth counts it
// among the messages of the same sender, protocol, exchange and direction, as a fault
// rule counts them.
type Message struct {
	Index     int     `json:"index"` // 1-based
	T         float64 `json:"t"`     // seconds
	From      string  `json:"from"`
	To        string  `json:"to"`
	Proto     string  `json:"proto"`
	Exchange  string  `json:"exchange"`
	Response  bool    `json:"response"`
	MessageID uint32  `json:"msgid"`
	Nth       int     `json:"nth"`
}

func (m Message) String() string {
	dir := "request"
	if m.Response {
		dir = "response"
	}
	return fmt.Sprintf("%s → %s %s %s #%d", m.From, m.To, m.Exchange, dir, m.MessageID)
}

// Outcome is how one run ended.
type Outcome struct {
	Kind string `json:"kind"` // Expected, Up, Failed or Finding
	// Failure names the first failure of the run: the notify type, or else the
	// reason (timeout, refused, ...). Empty without one.
	Failure string `json:"failure,omitempty"`
	// Passed of Total expectations were met.
	Passed int `json:"passed"`
	Total  int `json:"total"`
	// Converged is when the last IKE message was put on a wire, in seconds: when the
	// run settled.
	Converged float64 `json:"converged"`
}

// Short is the outcome in a table cell.
func (o Outcome) Short() string {
	switch o.Kind {
	case Expected:
		return fmt.Sprintf("ok %.1fs", o.Converged)
	case Up:
		if o.Total == 0 {
			return fmt.Sprintf("up %.1fs", o.Converged)
		}
		return fmt.Sprintf("up %d/%d %.1fs", o.Passed, o.Total, o.Converged)
	case Failed:
		return fmt.Sprintf("%s %.1fs", o.Failure, o.Converged)
	}
	return "FINDING"
}

// Table is a sweep's result: Cells[i][j] is the outcome of fault Faults[j] on
// Messages[i].
type Table struct {
	Scenario string      `json:"scenario"`
	Seed     uint64      `json:"seed"`
	Baseline Outcome     `json:"baseline"`
	Delay    float64     `json:"delay"` // seconds a delayed message is held back
	Messages []Message   `json:"messages"`
	Faults   []string    `json:"faults"`
	Cells    [][]Outcome `json:"cells"`
}

// Findings counts the cells that are findings.
func (t *Table) Findings() int {
	n := 0
	for _, row := range t.Cells {
		for _, c := range row {
			if c.Kind == Finding {
				n++
			}
		}
	}
	return n
}

// Options tune a sweep.
type Options struct {
	// Workers is how many runs go at once (0: one per core).
	Workers int
	// Progress, when set, is told after each run how many of the total are done. It is
	// called from one goroutine at a time.
	Progress func(done, total int)
}

// Run sweeps the scenario with the given seed.
func Run(sc *scenarios.Scenario, seed uint64, opt Options) (*Table, error) {
	base, err := runOnce(sc, seed, nil, nil)
	if err != nil {
		return nil, err
	}
	t := &Table{Scenario: sc.File.Name, Seed: seed, Baseline: base.outcome, Faults: Faults,
		Delay: delayFor(sc).Seconds(), Messages: base.messages}
	type job struct{ i, j int }
	jobs := make(chan job)
	t.Cells = make([][]Outcome, len(t.Messages))
	for i := range t.Cells {
		t.Cells[i] = make([]Outcome, len(Faults))
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	total := len(t.Messages) * len(Faults)
	var mu sync.Mutex
	var firstErr error
	done := 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range jobs {
				m := t.Messages[jb.i]
				resp := m.Response
				f := &sim.Fault{Action: Faults[jb.j], Proto: m.Proto, Exchange: m.Exchange, Response: &resp, From: m.From,
					Nth: m.Nth, Times: 1}
				if f.Action == "delay" {
					f.Delay = delayFor(sc)
				}
				r, err := runOnce(sc, seed, f, base.ups)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if r != nil {
					t.Cells[jb.i][jb.j] = r.outcome
				}
				done++
				if opt.Progress != nil {
					opt.Progress(done, total)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range t.Messages {
		for j := range Faults {
			jobs <- job{i, j}
		}
	}
	close(jobs)
	wg.Wait()
	return t, firstErr
}

// delayFor is how long a delayed message is held back: past the first retransmission
// timeout of every connection of the scenario (2 s unless a file sets it), so that the
// sender retransmits before the message arrives.
func delayFor(sc *scenarios.Scenario) time.Duration {
	d := 2 * time.Second
	for _, conns := range sc.File.Connections {
		for _, c := range conns {
			if c != nil && c.Retransmit != nil && c.Retransmit.Timeout.D() > d {
				d = c.Retransmit.Timeout.D()
			}
		}
	}
	return d + d/2
}

type result struct {
	outcome  Outcome
	messages []Message
	ups      map[string]bool // the kinds of SA that came up (sasUp)
}

// runOnce builds and runs the scenario, with the fault f when given, and reads the
// outcome from its trace; want are the kinds of SA the fault-free run brought up (nil:
// this is that run).
func runOnce(sc *scenarios.Scenario, seed uint64, f *sim.Fault, want map[string]bool) (*result, error) {
	r, err := scenarios.Build(sc, seed)
	if err != nil {
		return nil, err
	}
	if f != nil {
		r.Net.Faults = append(r.Net.Faults, f)
	}
	r.Execute()
	ev := r.Sim.Trace.Events
	res := &result{messages: ikeMessages(ev), ups: sasUp(ev)}
	if want == nil {
		want = res.ups
	}
	o := &res.outcome
	if n := len(res.messages); n > 0 {
		o.Converged = res.messages[n-1].T
	}
	graded := scenarios.Grade(sc, r.Sim.Trace)
	o.Total = len(graded)
	for _, g := range graded {
		if g.Pass {
			o.Passed++
		}
	}
	for _, e := range ev {
		if e.Kind == trace.KindError && e.Failure != nil {
			o.Failure = e.Failure.Notify
			if o.Failure == "" {
				o.Failure = string(e.Failure.Reason)
			}
			break
		}
	}
	switch {
	case o.Total > 0 && o.Passed == o.Total:
		o.Kind = Expected
	case len(want) > 0 && covers(res.ups, want):
		o.Kind = Up
	case o.Failure != "":
		o.Kind = Failed
	default:
		o.Kind = Finding
	}
	return res, nil
}

// ikeMessages lists the IKE messages the nodes made (not those a router passed on), in
// the order they were put on a wire.
func ikeMessages(ev []*trace.Event) []Message {
	var out []Message
	count := map[string]int{}
	for _, e := range ev {
		if e.Kind != trace.KindMessage || e.Forwarded() || (e.Proto() != "ikev1" && e.Proto() != "ikev2") {
			continue
		}
		key := strings.Join([]string{e.From(), e.Proto(), e.Exchange(), fmt.Sprint(e.Response())}, "|")
		count[key]++
		m := Message{Index: len(out) + 1, T: time.Duration(e.T).Seconds(), From: e.From(), To: e.To(), Proto: e.Proto(), Exchange: e.Exchange(),
			Response: e.Response(), Nth: count[key]}
		if e.MessageID() != nil {
			m.MessageID = *e.MessageID()
		}
		out = append(out, m)
	}
	return out
}

// sasUp lists the kinds of SA that came up: node, IKE or Child, connection and child.
func sasUp(ev []*trace.Event) map[string]bool {
	up := map[string]bool{}
	for _, e := range ev {
		if e.Kind == trace.KindSA && e.Op == trace.OpUp && e.SA != nil {
			up[strings.Join([]string{e.Node, string(e.SA.Type), e.SA.Conn, e.SA.Child}, "|")] = true
		}
	}
	return up
}

// covers says whether got has every kind of SA in want.
func covers(got, want map[string]bool) bool {
	for k := range want {
		if !got[k] {
			return false
		}
	}
	return true
}

// Format prints the table for people: one row per message, one column per fault.
func Format(t *Table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "sweep of %s (seed %d): %d IKE messages × %d faults; delay holds a message back %.1fs\n",
		t.Scenario, t.Seed, len(t.Messages), len(t.Faults), t.Delay)
	fmt.Fprintf(&b, "fault-free run: %s\n\n", t.Baseline.Short())
	rows := [][]string{append([]string{"#", "t", "message"}, t.Faults...)}
	for i, m := range t.Messages {
		row := []string{fmt.Sprint(m.Index), fmt.Sprintf("%.3fs", m.T), m.String()}
		for _, c := range t.Cells[i] {
			row = append(row, c.Short())
		}
		rows = append(rows, row)
	}
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		for i, c := range r {
			pad := width[i] - len([]rune(c))
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c + strings.Repeat(" ", pad))
		}
		b.WriteString("\n")
	}
	kinds := map[string]int{}
	for _, row := range t.Cells {
		for _, c := range row {
			kinds[c.Kind]++
		}
	}
	var parts []string
	for _, k := range []string{Expected, Up, Failed, Finding} {
		if kinds[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", kinds[k], k))
		}
	}
	fmt.Fprintf(&b, "\n%s\n", strings.Join(parts, ", "))
	b.WriteString("ok: every expectation met; up N/M: every SA of the fault-free run came up, N of M expectations met; a notify or reason: the run's first failure, nothing up; FINDING: neither up nor failed by the end. The time is when the last IKE message was sent.\n")
	return b.String()
}
