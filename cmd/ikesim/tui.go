package main

import (
	"bytes"
	"errors"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/render/html"
	"github.com/ikesim/ikesim/render/tui"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/sim/trace"
)

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// loadTrace reads a saved JSON Lines trace, or reports that path is not one.
func loadTrace(path string) (*trace.Trace, bool, error) {
	if !strings.HasSuffix(path, ".jsonl") && !strings.HasSuffix(path, ".json") {
		data, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			return nil, false, nil
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, true, err
	}
	defer f.Close()
	tr, err := trace.ReadJSON(f)
	return tr, true, err
}

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "tui SCENARIO|TRACE.jsonl",
			Short: "The terminal walkthrough of a scenario or a saved trace",
			Long: `tui opens the terminal walkthrough: the sequence diagram, the selected message's
fields with their bytes and an explanation of each, the nodes' SAs and state machines.
A saved JSON Lines trace (ikesim run --json, ikesim import -o, ikesim live --trace) is
shown as it is. Press ? for the keys, q to quit.`,
			Example: `  ikesim tui ikev2-nat
  ikesim tui lab-loss --seed 9
  ikesim tui capture.jsonl`,
			Args:              exactArgs(1, "one SCENARIO or saved trace"),
			ValidArgsFunction: completeScenario,
		}
		seed := addSeed(cmd)
		var lanes laneFlags
		addLaneFlags(cmd, &lanes)
		cmd.RunE = func(cmd *cobra.Command, args []string) error { return walkthrough(args[0], seed, lanes) }
		return cmd
	})
}

// walkthrough opens the terminal walkthrough of a scenario or a saved trace.
func walkthrough(name string, seed *seedFlag, lanes laneFlags) error {
	cfg, err := tuiConfig(name, seed)
	if err != nil {
		return err
	}
	if err := lanes.apply(cfg.Trace, &cfg.Lanes); err != nil {
		return err
	}
	if !isTerminal(os.Stdin) || !isTerminal(os.Stdout) {
		return errors.New("the walkthrough needs a terminal; use 'ikesim run' for a text diagram")
	}
	return tui.New(cfg).Run()
}

// tuiConfig runs a scenario (or reads a saved trace) for the walkthrough.
func tuiConfig(name string, seed *seedFlag) (tui.Config, error) {
	if tr, ok, err := loadTrace(name); ok {
		if err != nil {
			return tui.Config{}, err
		}
		return tui.Config{Title: name, Description: "A saved trace.", Trace: tr}, nil
	}
	r, err := simulate(name, seed)
	if err != nil {
		return tui.Config{}, err
	}
	return TUIConfig(r), nil
}

// gradeUpTo grades a run's expectations against its trace up to and including the
// event with sequence number upTo.
func gradeUpTo(r *scenarios.Run, upTo int) []scenarios.Result {
	return scenarios.GradeAt(r.Scenario, r.Sim.Trace, upTo)
}

// webLab is a scenario's lab as the web player shows it.
func webLab(r *scenarios.Run) *html.Lab {
	f := r.Scenario.File
	lab := &html.Lab{Description: f.Description, Hint: f.Hint, Solution: f.Solution}
	if len(f.Expect) > 0 {
		lab.Grade = func(upTo int) []html.Result {
			var out []html.Result
			for _, res := range gradeUpTo(r, upTo) {
				out = append(out, html.Result{Says: res.Says, Check: res.Check, Seen: res.Seen, Pass: res.Pass, Pending: res.Pending})
			}
			return out
		}
	}
	return lab
}

// TUIConfig makes the walkthrough's configuration for a scenario that has run.
func TUIConfig(r *scenarios.Run) tui.Config {
	tr := r.Sim.Trace
	return tui.Config{
		Title:       r.Scenario.File.Name,
		Description: r.Scenario.File.Description,
		Hint:        r.Scenario.File.Hint,
		Solution:    r.Scenario.File.Solution,
		Trace:       tr,
		Lab: func(upTo int) []tui.LabLine {
			var out []tui.LabLine
			for _, res := range gradeUpTo(r, upTo) {
				out = append(out, tui.LabLine{Says: res.Says, Check: res.Check, Seen: res.Seen, Pass: res.Pass, Pending: res.Pending})
			}
			return out
		},
	}
}
