package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/scenarios"
)

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "new NAME",
			Short: "Write a commented starter scenario, NAME.yaml",
			Long: `new writes a commented starter lab: two gateways, a ping, and expectations that pass.
Edit it, then run 'ikesim check NAME.yaml'. It never overwrites a file.`,
			Example: `  ikesim new my-lab
  ikesim new my-lab -o labs/my-lab.yaml`,
			Args:              exactArgs(1, "one NAME"),
			ValidArgsFunction: cobra.NoFileCompletions,
		}
		out := cmd.Flags().StringP("output", "o", "", "the `FILE` to write (default NAME.yaml)")
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			name := strings.TrimSuffix(args[0], ".yaml")
			data, err := scenarios.Starter(name)
			if err != nil {
				return usagef("%v", strings.TrimPrefix(err.Error(), "scenario: "))
			}
			path := *out
			if path == "" {
				path = name + ".yaml"
			}
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s exists already; choose another name or -o FILE", path)
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(data); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: edit it, then run 'ikesim check %s'\n", path, path)
			return nil
		}
		return cmd
	})
}
