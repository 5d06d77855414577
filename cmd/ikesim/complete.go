package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/render"
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
	return completeList(nodesOf(args[0]), toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeList completes the last name of a comma-separated list.
func completeList(names []string, toComplete string) []cobra.Completion {
	done := ""
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, toComplete = toComplete[:i+1], toComplete[i+1:]
	}
	var out []cobra.Completion
	for _, n := range names {
		if strings.HasPrefix(n, toComplete) {
			out = append(out, done+n)
		}
	}
	return out
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
	seen := map[string]bool{}
	for _, e := range tr.Events {
		for _, n := range []string{e.Node, e.From(), e.To()} {
			if n != "" && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// groupsOf are the groups of a scenario, or of a saved trace, for completion.
func groupsOf(name string) []string {
	var out []string
	if tr, ok, err := loadTrace(name); ok {
		if err == nil {
			_, group := render.TraceNodes(tr)
			for _, g := range group {
				if !slices.Contains(out, g) {
					out = append(out, g)
				}
			}
			slices.Sort(out)
		}
		return out
	}
	if sc, err := scenarios.Load(name); err == nil {
		for _, g := range sc.File.Groups {
			out = append(out, g.Name)
		}
	}
	return out
}

// completeGroup completes --fold with the groups of the scenario or trace.
func completeGroup(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return completeList(groupsOf(args[0]), toComplete), cobra.ShellCompDirectiveNoFileComp
}
