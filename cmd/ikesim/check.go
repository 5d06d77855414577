package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/scenarios"
)

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "check SCENARIO",
			Short: "Run a scenario and grade its expectations",
			Long: `check runs SCENARIO and grades the expectations of its expect section: one PASS or
FAIL line each. It exits 0 only when every expectation passes, and 1 when one fails or
the scenario has none.`,
			Example: `  ikesim check ikev2-ping
  ikesim check my-lab.yaml --seed 3`,
			Args:              exactArgs(1, "one SCENARIO"),
			ValidArgsFunction: completeScenario,
		}
		seed := addSeed(cmd)
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			r, err := simulate(args[0], seed)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			res := scenarios.Grade(r.Scenario, r.Sim.Trace)
			fmt.Fprintf(w, "%s (seed %d)\n%s", r.Scenario.File.Name, r.Seed, scenarios.FormatResults(res))
			if len(res) == 0 {
				fmt.Fprintln(w, "this scenario has no expectations to grade")
				return exitError{1}
			}
			if !scenarios.Passed(res) {
				return exitError{1}
			}
			return nil
		}
		return cmd
	})
}
