package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/sim/trace"
)

// Large runs: a summary instead of a diagram nobody can read, lanes picked by pattern
// or folded by group, and a progress line while a run takes long.

// maxDiagramLanes is the most nodes whose run `ikesim run` draws without --diagram
// (or --nodes); a larger one prints its summary.
const maxDiagramLanes = 24

// laneFlags are --nodes and --fold as given.
type laneFlags struct{ nodes, fold string }

// addLaneFlags adds --nodes and --fold to a command that draws lanes.
func addLaneFlags(cmd *cobra.Command, l *laneFlags) {
	f := cmd.Flags()
	f.StringVar(&l.nodes, "nodes", "", "the lanes to show, in order, comma-separated: names, patterns (rw-1*) or groups (default: all)")
	f.StringVar(&l.fold, "fold", "", "groups to draw as one lane each, comma-separated")
	cmd.RegisterFlagCompletionFunc("nodes", completeNode)
	cmd.RegisterFlagCompletionFunc("fold", completeGroup)
}

// set reports whether lanes were picked or folded.
func (l laneFlags) set() bool { return l.nodes != "" || l.fold != "" }

// apply picks and folds the lanes of o for tr. A name that is neither a node, a group
// nor a pattern gets the nearest node's name.
func (l laneFlags) apply(tr *trace.Trace, o *render.Options) error {
	if !l.set() {
		return nil
	}
	nodes := splitList(l.nodes)
	_, group := render.TraceNodes(tr)
	groups := map[string]bool{}
	for _, g := range group {
		groups[g] = true
	}
	for _, n := range nodes {
		if !strings.ContainsAny(n, "*?[\\") && !groups[n] {
			if err := checkNodes(tr, []string{n}, "--nodes"); err != nil {
				return err
			}
		}
	}
	if err := render.SelectLanes(tr, o, nodes, splitList(l.fold)); err != nil {
		return usagef("%s", err)
	}
	return nil
}

// splitList splits a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// runOutput is what `ikesim run` prints besides the JSON trace.
type runOutput struct {
	hideESP, timers bool
	diagram         bool // the diagram whatever the size
	lanes           laneFlags
}

// printRun prints a run: its diagram, or for a run of more than maxDiagramLanes nodes
// (unless --diagram, or lanes picked) its summary; then the graded expectations.
func printRun(w io.Writer, r *scenarios.Run, o runOutput) error {
	tr := r.Sim.Trace
	fmt.Fprintf(w, "%s (seed %d)\n\n", r.Scenario.File.Name, r.Seed)
	if err := writeDiagram(w, tr, len(r.Net.Nodes), "run", o); err != nil {
		return err
	}
	if len(r.Scenario.File.Expect) > 0 {
		fmt.Fprintf(w, "\nExpectations:\n%s", scenarios.FormatResults(scenarios.Grade(r.Scenario, tr)))
	}
	return nil
}

// writeDiagram prints the text diagram of tr, a run or a capture (what) of this many
// nodes; of more than maxDiagramLanes, unless --diagram or lanes picked, its summary.
func writeDiagram(w io.Writer, tr *trace.Trace, nodes int, what string, o runOutput) error {
	if !o.diagram && !o.lanes.set() && nodes > maxDiagramLanes {
		if err := trace.Summarize(tr.Events).WriteText(w); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "\n(a summary: the %s has %d nodes; --diagram draws it, --nodes and --fold pick lanes)\n", what, nodes)
		return err
	}
	ro := render.Options{HideESP: o.hideESP, ShowTimers: o.timers}
	if err := o.lanes.apply(tr, &ro); err != nil {
		return err
	}
	return render.WriteText(w, render.Build(tr, ro), render.TextOptions{})
}

// progressAfter is how long a run goes before its progress line shows.
const progressAfter = time.Second

// showProgress draws a progress line on stderr, when it is a terminal, while the run
// r executes for longer than progressAfter: the virtual time against the run's
// duration, the events recorded and the SAs up. The returned function stops it and
// clears the line.
func showProgress(r *scenarios.Run) (stop func()) {
	if !isTerminal(os.Stderr) {
		return func() {}
	}
	return progress(r, os.Stderr, progressAfter)
}

// progress draws the progress line of r on w once after has passed.
func progress(r *scenarios.Run, w io.Writer, after time.Duration) (stop func()) {
	var vt, events, up atomic.Int64
	r.Sim.Trace.Subscribe(func(e *trace.Event) {
		vt.Store(int64(e.T))
		events.Add(1)
		if e.Kind == trace.KindSA && e.Op == trace.OpUp {
			up.Add(1)
		}
	})
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-done:
			return
		case <-time.After(after):
		}
		total := max(r.Duration.Milliseconds(), 1)
		bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(w),
			progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(), progressbar.OptionShowDescriptionAtLineEnd())
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			bar.Describe(fmt.Sprintf("%.3fs virtual, %d events, %d SAs up",
				time.Duration(vt.Load()).Seconds(), events.Load(), up.Load()))
			_ = bar.Set64(min(time.Duration(vt.Load()).Milliseconds(), total))
			select {
			case <-done:
				_ = bar.Finish()
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
