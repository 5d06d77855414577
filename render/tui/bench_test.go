package tui

// Opening the walkthrough: build the diagram model and draw the first frame.
//
//	go test -run='^$' -bench=Open -benchtime=20x ./render/tui/
//
// BenchmarkOpen100k (a trace of 100,000 events) is compared with BenchmarkOpenSmall (the
// ikev2-ping trace, about 400 events) in the same run; the target is a first frame in
// under 200 ms.

import (
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/ikesim/ikesim/sim/trace"
)

// bigTrace repeats a run's events, shifted in time, until there are n of them.
func bigTrace(b *testing.B, n int) *trace.Trace {
	base := pingTrace(b)
	tr := &trace.Trace{}
	span := base.Events[len(base.Events)-1].T + trace.Seconds(time.Second)
	for round := 0; len(tr.Events) < n; round++ {
		for _, e := range base.Events {
			if len(tr.Events) == n {
				break
			}
			c := *e
			c.T += trace.Seconds(round) * span
			c.Seq = len(tr.Events) + 1
			tr.Events = append(tr.Events, &c)
		}
	}
	return tr
}

func benchOpen(b *testing.B, tr *trace.Trace) {
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		b.Fatal(err)
	}
	scr.SetSize(120, 40)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u := New(Config{Title: "bench", Trace: tr})
		u.goTo(len(u.steps) - 1) // the last step: the whole diagram is reachable
		u.App().SetScreen(scr)
		u.App().ForceDraw()
	}
}

func BenchmarkOpenSmall(b *testing.B) { benchOpen(b, pingTrace(b)) }

func BenchmarkOpen100k(b *testing.B) {
	tr := bigTrace(b, 100_000)
	benchOpen(b, tr)
}
