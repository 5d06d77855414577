package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
	_ "github.com/ikesim/ikesim/scenarios/ios"     // the ios format
	_ "github.com/ikesim/ikesim/scenarios/swanctl" // the swanctl format
)

// 'ikesim config import' and 'ikesim config export', and what 'ikesim run NODE=FILE...'
// needs: the configurations of real gateways in and out (docs/configs.md).

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "config",
			Short: "Real gateway configurations (swanctl.conf, Cisco IOS) in and out of scenarios",
			Long: `config import reads one configuration per node (strongSwan's swanctl.conf or Cisco IOS,
told apart by their content) and writes the scenario they make; config export writes a
node of a scenario as the configuration of a real gateway. 'ikesim run NODE=FILE...' does
the import and the run at once. docs/configs.md lists every setting read, with its
scenario equivalent.`,
			Example: `  ikesim config import gw-a=a.swanctl.conf gw-b=b.swanctl.conf -o pair.yaml
  ikesim config export ikev1-main-quick --node R3 --format ios
  ikesim run R3=r3.cfg R2=r2.cfg`,
			Args: func(cmd *cobra.Command, args []string) error {
				if len(args) == 0 {
					return usagef("config needs import or export")
				}
				var known []string
				for _, c := range cmd.Commands() {
					known = append(known, c.Name())
				}
				return usagef("unknown config command %q%s (import or export)", args[0], didYouMean(args[0], known))
			},
			ValidArgsFunction: cobra.NoFileCompletions,
			// Runnable, so that a missing or misspelt subcommand is a usage error (its
			// Args) rather than the help.
			RunE:                  func(*cobra.Command, []string) error { return nil },
			DisableFlagsInUseLine: true,
		}
		cmd.AddCommand(newConfigImport(), newConfigExport())
		return cmd
	})
}

func newConfigImport() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import NODE=FILE [NODE=FILE...]",
		Short: "Gateway configurations as a commented scenario",
		Long: `import reads one gateway configuration per node, NODE=FILE: strongSwan's swanctl.conf
(with its includes and the credential folders beside it) or a Cisco IOS running
configuration, told apart by their content. It writes a normal, commented scenario:
the topology the addresses make (each node joined by a router, a host behind each
protected subnet), the connections, secrets, pools and certificates, a timeline that
starts the connections as the gateways would, a ping across each child, and
expectations. Every value names the configuration line it comes from; every setting the
scenario cannot say is a note on standard error with its file and line. --topology
replaces the inferred topology (and whatever other top-level section it has) with a
scenario fragment. Before writing, the two sides of each pair are compared, and what
would keep them apart is a warning.`,
		Example: `  ikesim config import gw-a=a.swanctl.conf gw-b=b.swanctl.conf -o pair.yaml
  ikesim config import R3=r3.cfg R2=r2.cfg --topology lab.yaml -o lab.yaml
  ikesim config import gw=swanctl.conf roadwarrior=laptop.conf | less`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("config import needs NODE=FILE arguments (e.g. gw-a=a.conf gw-b=b.conf)")
			}
			return nil
		},
		ValidArgsFunction: completeNodeFile,
	}
	out := cmd.Flags().StringP("output", "o", "", "write the scenario to this `FILE` (default: standard output)")
	topology := addTopology(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		w, ew := cmd.OutOrStdout(), cmd.ErrOrStderr()
		r, err := importConfigs(args, *topology, *out)
		if err != nil {
			return err
		}
		printNotes(ew, r)
		for _, f := range config.Check(r) {
			fmt.Fprintf(ew, "warning: %s\n", f)
		}
		return writeOut(w, *out, r.YAML, fmt.Sprintf(": run it with 'ikesim run %s'", *out))
	}
	return cmd
}

func newConfigExport() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export SCENARIO --node NAME --format swanctl|ios",
		Short: "A node of a scenario as the configuration of a real gateway",
		Long: `export writes the connections, secrets, pools and certificates of one node of SCENARIO as
the configuration of a real gateway: a swanctl.conf for strongSwan, or the crypto part
of a Cisco IOS configuration (with the interfaces and access lists it needs), so that a
lab can move to real equipment. What the format cannot say is a note on standard
error, never dropped silently; importing what export writes gives back the same
connections.`,
		Example: `  ikesim config export ikev1-main-quick --node R3 --format ios
  ikesim config export ikev2-ping --node gw-a --format swanctl -o swanctl.conf
  ikesim config export lab.yaml --node gw-b --format swanctl`,
		Args:              exactArgs(1, "one SCENARIO"),
		ValidArgsFunction: completeScenario,
	}
	node := cmd.Flags().String("node", "", "the `NAME` of the node whose configuration to write")
	format := cmd.Flags().String("format", "", "the configuration's format: "+strings.Join(config.FormatNames(), " or "))
	out := cmd.Flags().StringP("output", "o", "", "write to this `FILE` (default: standard output)")
	cmd.RegisterFlagCompletionFunc("node", completeGateway)
	cmd.RegisterFlagCompletionFunc("format", fixedCompletions(config.FormatNames()))
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		w, ew := cmd.OutOrStdout(), cmd.ErrOrStderr()
		if *format == "" {
			return usagef("config export needs --format %s", strings.Join(config.FormatNames(), " or "))
		}
		if err := oneOf("format", *format, config.FormatNames()); err != nil {
			return err
		}
		f, _ := config.Lookup(*format)
		if *node == "" {
			return usagef("config export needs --node NAME")
		}
		sc, err := loadScenario(args[0])
		if err != nil {
			return err
		}
		if _, ok := sc.File.Connections[*node]; !ok {
			names := gateways(sc)
			return usagef("node %q has no connections in %s%s (nodes with connections: %s)", *node, args[0], didYouMean(*node, names), strings.Join(names, ", "))
		}
		data, notes, err := f.Export(sc, *node)
		if err != nil {
			return err
		}
		for _, n := range notes {
			fmt.Fprintf(ew, "note: %s\n", n.Msg)
		}
		return writeOut(w, *out, data, "")
	}
	return cmd
}

// writeOut writes data to w, or to the file out when it is named, and then says so on
// w, with more after the file's name.
func writeOut(w io.Writer, out string, data []byte, more string) error {
	if out == "" {
		_, err := w.Write(data)
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "wrote %s%s\n", out, more)
	return err
}

// addTopology adds --topology to a command that imports configurations.
func addTopology(cmd *cobra.Command) *string {
	t := cmd.Flags().String("topology", "", "a scenario fragment `FILE` whose topology (and timeline, expect, ...) replaces the inferred one")
	cmd.RegisterFlagCompletionFunc("topology", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return []cobra.Completion{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
	})
	return t
}

// isConfigArgs reports whether run's arguments are NODE=FILE pairs rather than a
// scenario.
func isConfigArgs(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, "=") })
}

// gateways are the nodes of a scenario that have connections, sorted.
func gateways(sc *scenarios.Scenario) []string {
	var names []string
	for n := range sc.File.Connections {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// completeGateway completes --node with the nodes of the scenario that have connections.
func completeGateway(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	sc, err := scenarios.Load(args[0])
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, n := range gateways(sc) {
		if strings.HasPrefix(n, toComplete) {
			out = append(out, n)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeNodeFile completes NODE=FILE: the file names after the '=' (the shells keep
// NODE= as part of the word), nothing before it.
func completeNodeFile(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	node, prefix, ok := strings.Cut(toComplete, "=")
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
	matches, _ := filepath.Glob(globEscape(prefix) + "*")
	var out []cobra.Completion
	dirs := false
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.IsDir() {
			m += string(filepath.Separator)
			dirs = true
		}
		out = append(out, node+"="+m)
	}
	d := cobra.ShellCompDirectiveNoFileComp
	if dirs {
		d |= cobra.ShellCompDirectiveNoSpace
	}
	return out, d
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// importConfigs reads NODE=FILE arguments and builds their scenario.
func importConfigs(pairs []string, topology, out string) (*config.Result, error) {
	var inputs []config.Input
	for _, p := range pairs {
		node, path, err := config.ParseArg(p)
		if err != nil {
			return nil, usagef("%s", strings.TrimPrefix(err.Error(), "config: "))
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, config.Input{Node: node, Path: path, Data: data})
	}
	o := config.Options{Out: out}
	if topology != "" {
		data, err := os.ReadFile(topology)
		if err != nil {
			return nil, err
		}
		o.Fragment, o.FragmentPath = data, topology
	}
	return config.Import(inputs, o)
}

func printNotes(ew io.Writer, r *config.Result) {
	for _, n := range r.Notes {
		fmt.Fprintf(ew, "note: %s\n", n)
	}
}

// runConfigs is 'ikesim run NODE=FILE...': import, run, print the diagram, the
// expectations and, when the pair did not come up, why.
func runConfigs(cmd *cobra.Command, args []string, seed *seedFlag, asJSON, hideESP, timers bool, topology string) error {
	w := cmd.OutOrStdout()
	r, err := importConfigs(args, topology, "")
	if err != nil {
		return err
	}
	printNotes(cmd.ErrOrStderr(), r)
	var seedp *uint64
	if seed.set {
		seedp = &seed.v
	}
	run, err := r.Simulate(seedp)
	if err != nil {
		return err
	}
	sc := run.Scenario
	results := scenarios.Grade(sc, run.Sim.Trace)
	findings := config.Diagnose(r, results, run.Sim.Trace)
	config.Record(run, findings)
	if asJSON {
		return run.Sim.Trace.WriteJSON(w)
	}
	d := render.Build(run.Sim.Trace, render.Options{HideESP: hideESP, ShowTimers: timers})
	fmt.Fprintf(w, "%s (seed %d)\n\n", sc.File.Name, run.Seed)
	if err := render.WriteText(w, d, render.TextOptions{}); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nExpectations:\n%s", scenarios.FormatResults(results))
	if len(findings) > 0 {
		fmt.Fprintf(w, "\nWhy, in the words of the configurations:\n")
		for _, f := range findings {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	return nil
}
