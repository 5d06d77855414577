package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/scenarios"
)

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "run SCENARIO",
			Short: "Run a scenario and print its text sequence diagram (or its trace)",
			Long: `run runs SCENARIO on the virtual clock and prints its sequence diagram as text, then
the graded expectations when the scenario has any. --json prints the trace as JSON Lines
instead: one event per line, for ikesim tui, ikesim render and your own tools.`,
			Example: `  ikesim run ikev2-ping
  ikesim run lab-loss --seed 7 --hide-esp --timers
  ikesim run ikev2-nat --json > nat.jsonl`,
			Args:              exactArgs(1, "one SCENARIO"),
			ValidArgsFunction: completeScenario,
		}
		seed := addSeed(cmd)
		asJSON := cmd.Flags().Bool("json", false, "print the trace as JSON Lines instead of the diagram")
		hideESP := cmd.Flags().Bool("hide-esp", false, "leave ESP and plain IP traffic out of the diagram")
		timers := cmd.Flags().Bool("timers", false, "show timers in the diagram")
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if *asJSON {
				r, err := simulate(args[0], seed)
				if err != nil {
					return err
				}
				return r.Sim.Trace.WriteJSON(cmd.OutOrStdout())
			}
			return runDiagram(cmd.OutOrStdout(), args[0], seed, *hideESP, *timers)
		}
		return cmd
	})
}

// runDiagram runs a scenario and prints its text diagram and graded expectations.
func runDiagram(w io.Writer, name string, seed *seedFlag, hideESP, timers bool) error {
	r, err := simulate(name, seed)
	if err != nil {
		return err
	}
	d := render.Build(r.Sim.Trace, render.Options{HideESP: hideESP, ShowTimers: timers})
	fmt.Fprintf(w, "%s (seed %d)\n\n", r.Scenario.File.Name, r.Seed)
	if err := render.WriteText(w, d, render.TextOptions{}); err != nil {
		return err
	}
	if len(r.Scenario.File.Expect) > 0 {
		fmt.Fprintf(w, "\nExpectations:\n%s", scenarios.FormatResults(scenarios.Grade(r.Scenario, r.Sim.Trace)))
	}
	return nil
}
