package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/scenarios"
)

func init() {
	register(func() *cobra.Command {
		return &cobra.Command{
			Use:   "list",
			Short: "The built-in scenarios, one per line, with a description",
			Long:  "list prints every built-in scenario with the first sentence of its description.",
			Example: `  ikesim list
  ikesim list | grep lab-`,
			Args:              exactArgs(0, "no arguments"),
			ValidArgsFunction: cobra.NoFileCompletions,
			RunE:              func(cmd *cobra.Command, _ []string) error { return list(cmd.OutOrStdout()) },
		}
	})
}

// list prints the built-in scenarios: the names in one column as wide as the longest, then
// the first sentence of each description.
func list(w io.Writer) error {
	names := scenarios.Builtins()
	width := 0
	for _, name := range names {
		width = max(width, len(name))
	}
	for _, name := range names {
		s, err := scenarios.Load(name)
		if err != nil {
			return err
		}
		desc := strings.Join(strings.Fields(s.File.Description), " ")
		if i := strings.Index(desc, ". "); i > 0 {
			desc = desc[:i+1]
		}
		fmt.Fprintf(w, "%-*s  %s\n", width, name, desc)
	}
	return nil
}
