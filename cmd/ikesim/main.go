// Command ikesim runs IKE and IPsec scenarios on a simulated network and shows them as
// sequence diagrams, traces and pcaps.
//
// The command line is built with cobra: main.go holds the root command and what every
// subcommand shares (errors, --seed, loading a scenario); each other file registers one
// subcommand with register in its init function.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/sim"
)

// usageError is a bad command line: one line on stderr, exit code 2.
type usageError struct {
	msg string
	cmd string // the command whose --help to point at ("ikesim run"), or ""
}

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{msg: fmt.Sprintf(format, args...)} }

// exitError carries an exit code without a message of its own.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// commands are the constructors of the subcommands, in the order they registered.
var commands []func() *cobra.Command

// register adds a subcommand; each command's file calls it from its init function.
func register(newCmd func() *cobra.Command) { commands = append(commands, newCmd) }

// tuneGC is set by main: a command that runs simulations sets the garbage collector for
// a heap that is mostly a trace (sim.TuneGC), unless it says gcDefault in its
// annotations, as live does: a daemon on real sockets whose memory must stay bounded
// under a flood. Tests that call run leave their process's collector alone.
var tuneGC bool

// annotationGC is the annotation by which a command asks for Go's default collector.
const (
	annotationGC = "gc"
	gcDefault    = "default"
)

func main() {
	tuneGC = true
	os.Exit(exitCode(run(os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// exitCode prints err as the one line a user sees and returns the process's exit code:
// 0 for success, 2 for a bad command line, 1 for a failed run.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		help := "ikesim help"
		if ue.cmd != "" && ue.cmd != "ikesim" {
			help = ue.cmd + " --help"
		}
		fmt.Fprintf(stderr, "ikesim: %s (see '%s')\n", ue.msg, help)
		return 2
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintf(stderr, "ikesim: %v\n", err)
		return 1
	}
}

// run executes the command line args (without the program name).
func run(args []string, stdout, stderr io.Writer) error {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	c, err := root.ExecuteC()
	var ue usageError
	if errors.As(err, &ue) && ue.cmd == "" {
		ue.cmd = c.CommandPath()
		return ue
	}
	return err
}

// newRoot builds the command tree: the root, which opens the walkthrough of the default
// scenario, and every registered subcommand.
func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "ikesim",
		Short: "IKE and IPsec on a simulated network, as sequence diagrams",
		Long: `ikesim runs real IKEv2, IKEv1 and ESP between virtual nodes and shows every message,
state change and key as a sequence diagram: in the terminal, as SVG, PNG, HTML, Mermaid or
PlantUML, as a pcap that tshark decrypts. The same engines run against a real IKE daemon
(ikesim live), and real captures come back in (ikesim import).

SCENARIO is a built-in name (see 'ikesim list') or a scenario file. Without a command,
ikesim opens the walkthrough of the default scenario (` + scenarios.Default + `); without a
terminal it prints its text diagram instead.`,
		Example: `  ikesim                          # the walkthrough of ` + scenarios.Default + `
  ikesim run ikev2-nat --timers   # a text diagram with the timers
  ikesim help render              # the help of one command`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !isTerminal(os.Stdin) || !isTerminal(os.Stdout) {
				return runDiagram(cmd.OutOrStdout(), scenarios.Default, &seedFlag{}, runOutput{})
			}
			return walkthrough(scenarios.Default, &seedFlag{}, laneFlags{})
		},
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			if tuneGC && cmd.Annotations[annotationGC] != gcDefault {
				sim.TuneGC()
			}
		},
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		msg := fmt.Sprintf("%s: %v", c.Name(), err)
		if name, ok := strings.CutPrefix(err.Error(), "unknown flag: --"); ok {
			var known []string
			c.Flags().VisitAll(func(f *pflag.Flag) { known = append(known, f.Name) })
			if best, ok := ike.Nearest(name, known); ok {
				msg += fmt.Sprintf("; did you mean --%s?", best)
			}
		}
		return usageError{msg: msg, cmd: c.CommandPath()}
	})
	for _, newCmd := range commands {
		root.AddCommand(newCmd())
	}
	return root
}

// unknownCommand is the usage error for a command name that does not exist, with the
// nearest one.
func unknownCommand(root *cobra.Command, name string) error {
	var known []string
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() {
			known = append(known, c.Name())
		}
	}
	known = append(known, "help")
	return usageError{msg: fmt.Sprintf("unknown command %q%s", name, didYouMean(name, known)), cmd: "ikesim"}
}

// didYouMean is ", did you mean "x"?" for the known name nearest to name, or "".
func didYouMean(name string, known []string) string {
	if best, ok := ike.Nearest(name, known); ok {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

// exactArgs checks that a command got n positional arguments, described by what.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s needs %s", cmd.Name(), what)
		}
		return nil
	}
}

// seedFlag is --seed: unset means the scenario's own seed.
type seedFlag struct {
	set bool
	v   uint64
}

func (s *seedFlag) String() string {
	if !s.set {
		return ""
	}
	return strconv.FormatUint(s.v, 10)
}
func (s *seedFlag) Type() string { return "N" }
func (s *seedFlag) Set(v string) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return fmt.Errorf("seed %q is not a whole number", v)
	}
	s.set, s.v = true, n
	return nil
}

func (s *seedFlag) pick(sc *scenarios.Scenario) uint64 {
	if s.set {
		return s.v
	}
	return sc.Seed
}

// addSeed adds --seed to a command that runs a scenario.
func addSeed(cmd *cobra.Command) *seedFlag {
	var seed seedFlag
	cmd.Flags().Var(&seed, "seed", "random seed (default: the scenario's own)")
	return &seed
}

// loadScenario loads a built-in scenario or a scenario file. A name that is neither is a
// usage error, with the nearest built-in name.
func loadScenario(name string) (*scenarios.Scenario, error) {
	sc, err := scenarios.Load(name)
	if err == nil {
		return sc, nil
	}
	var el scenarios.ErrorList
	if errors.As(err, &el) {
		return nil, err
	}
	msg := strings.TrimPrefix(err.Error(), "scenario: ")
	if _, serr := os.Stat(name); serr != nil {
		msg += didYouMean(name, scenarios.Builtins())
	}
	return nil, usagef("%s", msg)
}

// simulate loads, builds and runs a scenario.
func simulate(name string, seed *seedFlag) (*scenarios.Run, error) {
	sc, err := loadScenario(name)
	if err != nil {
		return nil, err
	}
	r, err := scenarios.Build(sc, seed.pick(sc))
	if err != nil {
		return nil, err
	}
	stop := showProgress(r)
	r.Execute()
	stop()
	return r, nil
}

// oneOf checks that value is one of the known names, with a did-you-mean otherwise.
func oneOf(what, value string, known []string) error {
	if slices.Contains(known, value) {
		return nil
	}
	return usagef("unknown %s %q%s (%s)", what, value, didYouMean(value, known), strings.Join(known, ", "))
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
