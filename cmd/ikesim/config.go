package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
	_ "github.com/ikesim/ikesim/scenarios/ios"     // the ios format
	_ "github.com/ikesim/ikesim/scenarios/swanctl" // the swanctl format
)

const configUsage = `usage:
  ikesim config import NODE=FILE [NODE=FILE...] [-o SCENARIO.yaml] [--topology FRAGMENT.yaml]
        one gateway configuration per node (swanctl.conf or Cisco IOS, told apart by their
        content) as a commented scenario: topology, connections, secrets, traffic, checks
  ikesim config export SCENARIO --node NAME --format swanctl|ios [-o FILE]
        a node of a scenario as the configuration of a real gateway
  ikesim run NODE=FILE [NODE=FILE...]
        import and run at once; when the pair does not come up, the trace says why in the
        words of the configurations
`

// cmdConfig is 'ikesim config import' and 'ikesim config export'.
func cmdConfig(args []string, w, ew io.Writer) error {
	if len(args) == 0 {
		return usagef("config needs import or export")
	}
	switch args[0] {
	case "import":
		return cmdConfigImport(args[1:], w, ew)
	case "export":
		return cmdConfigExport(args[1:], w, ew)
	case "help", "-h", "--help":
		_, err := io.WriteString(w, configUsage)
		return err
	}
	return usagef("unknown config command %q (import or export)", args[0])
}

// isConfigArgs reports whether run's arguments are NODE=FILE pairs rather than a
// scenario.
func isConfigArgs(args []string) bool {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") && strings.Contains(a, "=") {
			return true
		}
	}
	return false
}

// positional splits flags from the NODE=FILE arguments that may stand among them.
func positional(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// importConfigs reads NODE=FILE arguments and builds their scenario.
func importConfigs(pairs []string, topology, out string) (*config.Result, error) {
	if len(pairs) == 0 {
		return nil, usagef("config import needs NODE=FILE arguments (e.g. gw-a=a.conf gw-b=b.conf)")
	}
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

func cmdConfigImport(args []string, w, ew io.Writer) error {
	fs := flag.NewFlagSet("config import", flag.ContinueOnError)
	out := fs.String("o", "", "write the scenario to this file (default: standard output)")
	topology := fs.String("topology", "", "a scenario fragment whose topology (and timeline, expect, ...) replaces the inferred one")
	pos, err := positional(fs, args)
	if err != nil {
		return err
	}
	r, err := importConfigs(pos, *topology, *out)
	if err != nil {
		return err
	}
	for _, n := range r.Notes {
		fmt.Fprintf(ew, "note: %s\n", n)
	}
	for _, f := range config.Check(r) {
		fmt.Fprintf(ew, "warning: %s\n", f)
	}
	if *out == "" {
		_, err := w.Write(r.YAML)
		return err
	}
	if err := os.WriteFile(*out, r.YAML, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s: run it with 'ikesim run %s'\n", *out, *out)
	return nil
}

func cmdConfigExport(args []string, w, ew io.Writer) error {
	fs := flag.NewFlagSet("config export", flag.ContinueOnError)
	node := fs.String("node", "", "the node whose configuration to write")
	format := fs.String("format", "", "swanctl or ios")
	out := fs.String("o", "", "write to this file (default: standard output)")
	pos, err := parse(fs, args, 1, "one SCENARIO")
	if err != nil {
		return err
	}
	f, ok := config.Lookup(*format)
	if !ok {
		return usagef("config export needs --format %s", strings.Join(config.FormatNames(), " or "))
	}
	if *node == "" {
		return usagef("config export needs --node NAME")
	}
	sc, err := scenarios.Load(pos[0])
	if err != nil {
		var el scenarios.ErrorList
		if errors.As(err, &el) {
			return err
		}
		return usagef("%v", strings.TrimPrefix(err.Error(), "scenario: "))
	}
	if _, ok := sc.File.Connections[*node]; !ok {
		var names []string
		for n := range sc.File.Connections {
			names = append(names, n)
		}
		return usagef("node %q has no connections in %s (nodes with connections: %s)", *node, pos[0], strings.Join(names, ", "))
	}
	data, notes, err := f.Export(sc, *node)
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(ew, "note: %s\n", n.Msg)
	}
	if *out == "" {
		_, err := w.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s\n", *out)
	return nil
}

// cmdRunConfigs is 'ikesim run NODE=FILE...': import, run, print the diagram, the
// expectations and, when the pair did not come up, why.
func cmdRunConfigs(args []string, w, ew io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var seed seedFlag
	fs.Var(&seed, "seed", "random seed (default: the scenario's)")
	asJSON := fs.Bool("json", false, "print the trace as JSON Lines")
	topology := fs.String("topology", "", "a scenario fragment whose topology (and timeline, expect, ...) replaces the inferred one")
	hideESP := fs.Bool("hide-esp", false, "leave ESP and plain IP traffic out of the diagram")
	pos, err := positional(fs, args)
	if err != nil {
		return err
	}
	r, err := importConfigs(pos, *topology, "")
	if err != nil {
		return err
	}
	for _, n := range r.Notes {
		fmt.Fprintf(ew, "note: %s\n", n)
	}
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
	findings := config.Diagnose(r, results)
	config.Record(run, findings)
	if *asJSON {
		return run.Sim.Trace.WriteJSON(w)
	}
	d := render.Build(run.Sim.Trace, render.Options{HideESP: *hideESP})
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
