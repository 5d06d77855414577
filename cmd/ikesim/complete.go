package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/sim/trace"
)

// Shell completion. cobra's own completion command writes the scripts (ikesim completion
// bash|zsh|fish|powershell); the functions here give them the names ikesim knows:
// scenarios, formats and views, and the nodes of the scenario or trace on the command
// line.

// completeScenario completes the first argument with the built-in scenario names and,
// as the shell does, file names.
func completeScenario(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, name := range scenarios.Builtins() {
		if strings.HasPrefix(name, toComplete) {
			out = append(out, name)
		}
	}
	return out, cobra.ShellCompDirectiveDefault
}

// fixedCompletions completes a flag with a fixed list of names.
func fixedCompletions(names []string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeNode completes a flag with the node names of the scenario or saved trace given
// as the first argument. For a comma-separated list (--nodes) it completes the last name.
func completeNode(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	done := ""
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, toComplete = toComplete[:i+1], toComplete[i+1:]
	}
	var out []cobra.Completion
	for _, n := range nodesOf(args[0]) {
		if strings.HasPrefix(n, toComplete) {
			out = append(out, done+n)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completePeer completes --peer with NAME= for each node of the scenario.
func completePeer(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	names, _ := completeNode(cmd, args, toComplete)
	for i := range names {
		names[i] += "="
	}
	return names, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// nodesOf are the node names of a scenario, or of a saved trace; none when it is neither.
func nodesOf(name string) []string {
	if tr, ok, err := loadTrace(name); ok {
		if err != nil {
			return nil
		}
		return traceNodes(tr)
	}
	sc, err := scenarios.Load(name)
	if err != nil {
		return nil
	}
	return nodeNames(sc)
}

// traceNodes are the nodes that appear in a trace, in the order they first appear.
func traceNodes(tr *trace.Trace) []string {
	var out []string
	for _, e := range tr.Events {
		for _, n := range []string{e.Node, e.From, e.To} {
			if n != "" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}
