package main

import (
	"io"

	"github.com/spf13/cobra"
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
why in the words of the configurations, naming the option and its line on each side.

A run of more than 24 nodes prints a summary instead of the diagram: SAs up and failed
per connection (a group's members together), handshake times on the virtual clock,
messages and bytes per exchange, retransmissions, pings and drops. --diagram draws the
diagram anyway; --nodes picks lanes by name, pattern or group, --fold draws a group as
one lane. While a run takes more than a second, a progress line goes to stderr when it
is a terminal.`,
			Example: `  ikesim run ikev2-ping
  ikesim run lab-loss --seed 7 --hide-esp --timers
  ikesim run ikev2-nat --json > nat.jsonl
  ikesim run city.yaml --nodes 'gw,rw-1?' --fold rw
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
		diagram := cmd.Flags().Bool("diagram", false, "draw the diagram even of a run of more than 24 nodes (default: a summary)")
		var lanes laneFlags
		addLaneFlags(cmd, &lanes)
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
			return runDiagram(cmd.OutOrStdout(), args[0], seed, runOutput{hideESP: *hideESP, timers: *timers, diagram: *diagram, lanes: lanes})
		}
		return cmd
	})
}

// runDiagram runs a scenario and prints its text diagram (or summary) and graded
// expectations.
func runDiagram(w io.Writer, name string, seed *seedFlag, o runOutput) error {
	r, err := simulate(name, seed)
	if err != nil {
		return err
	}
	return printRun(w, r, o)
}
