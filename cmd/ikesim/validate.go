package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/scenarios"
)

func init() {
	register(func() *cobra.Command {
		return &cobra.Command{
			Use:   "validate FILE",
			Short: "Check a scenario file without running it",
			Long: `validate reads a scenario file and reports every error it finds, each with its
file:line:column, the source line and, for a misspelt name, the nearest known one. It
exits 0 when the file is valid and 1 otherwise.`,
			Example: `  ikesim validate my-lab.yaml
  ikesim validate ikev2-ping      # a built-in name works too`,
			Args:              exactArgs(1, "one FILE"),
			ValidArgsFunction: completeScenario,
			RunE: func(cmd *cobra.Command, args []string) error {
				if _, err := scenarios.Load(args[0]); err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					return exitError{1}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", args[0])
				return nil
			},
		}
	})
}
