package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"strings"

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

func cmdTUI(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("tui", flag.ContinueOnError)
	var seed seedFlag
	fs.Var(&seed, "seed", "random seed (default: the scenario's)")
	pos, err := parse(fs, args, 1, "one SCENARIO or saved trace")
	if err != nil {
		return err
	}
	cfg, err := tuiConfig(pos[0], &seed)
	if err != nil {
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
