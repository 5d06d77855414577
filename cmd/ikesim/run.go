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
			Use:   "run SCENARIO | NODE=FILE...",
			Short: "Run a scenario (or gateway configurations) and print its text sequence diagram (or its trace)",
			Long: `run runs SCENARIO on the virtual clock and prints its sequence diagram as text, then
the graded expectations when the scenario has any. --json prints the trace as JSON Lines
instead: one event per line, for ikesim tui, ikesim render and your own tools.

With NODE=FILE arguments instead of SCENARIO, run imports gateway configurations (as
'ikesim config import' does) and runs them at once; when a pair does not come up, it says
why in the words of the configurations, naming the option and its line on each side.`,
			Example: `  ikesim run ikev2-ping
  ikesim run lab-loss --seed 7 --hide-esp --timers
  ikesim run ikev2-nat --json > nat.jsonl
  ikesim run gw-a=a.swanctl.conf gw-b=b.swanctl.conf`,
			Args: func(cmd *cobra.Command, args []string) error {
				if isConfigArgs(args) {
					return nil
				}
				return exactArgs(1, "one SCENARIO or NODE=FILE arguments")(cmd, args)
			},
			ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if isConfigArgs(append(args, toComplete)) {
					return completeNodeFile(cmd, args, toComplete)
				}
				return completeScenario(cmd, args, toComplete)
			},
		}
		seed := addSeed(cmd)
		asJSON := cmd.Flags().Bool("json", false, "print the trace as JSON Lines instead of the diagram")
		hideESP := cmd.Flags().Bool("hide-esp", false, "leave ESP and plain IP traffic out of the diagram")
		timers := cmd.Flags().Bool("timers", false, "show timers in the diagram")
		topology := addTopology(cmd)
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if isConfigArgs(args) {
				return runConfigs(cmd, args, seed, *asJSON, *hideESP, *timers, *topology)
			}
			if *topology != "" {
				return usagef("--topology goes with NODE=FILE arguments, not a scenario")
			}
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
