// Command ikesim runs IKE and IPsec scenarios on a simulated network and shows them as
// sequence diagrams, traces and pcaps.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/sim/trace"
)

const usage = `ikesim: IKE and IPsec on a simulated network, as sequence diagrams

usage:
  ikesim                                        the terminal walkthrough of the default scenario
  ikesim tui SCENARIO|TRACE.jsonl [--seed N]    the terminal walkthrough of any scenario or saved trace
  ikesim list                                   built-in scenarios
  ikesim run SCENARIO [--seed N] [--json]       run and print the text diagram (or the JSON Lines trace)
  ikesim pcap SCENARIO -o FILE.pcap --keys DIR  write a pcap and Wireshark key tables [--all-hops] [--format pcapng]
  ikesim render SCENARIO|TRACE.jsonl -o FILE [--format svg|png|html|mermaid|plantuml|text|dot]
         [--view sequence|topology|states]    diagrams for documents and the browser
  ikesim check SCENARIO                         run and grade the scenario's expectations
  ikesim validate FILE                          check a scenario file
  ikesim new NAME                               write a commented starter scenario NAME.yaml
  ikesim import FILE.pcap[ng][.gz] [--keys DIR] [--json] [-o TRACE.jsonl]
                                                a real capture (strongSwan's, say) as a trace
  ikesim live SCENARIO --node NAME --listen ADDR:PORT --peer NAME=ADDR:PORT [--initiate] [--trace FILE.jsonl]
                                                one node on real sockets against a real IKE peer

SCENARIO is a built-in name (see 'ikesim list') or a scenario file. Without a command,
ikesim opens the walkthrough of the default scenario (` + scenarios.Default + `); without a
terminal it prints its text diagram instead.
`

// usageError is a bad command line: one line on stderr, exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitError carries an exit code without a message of its own.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	var ue usageError
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "ikesim: %s (see 'ikesim help')\n", ue.msg)
		os.Exit(2)
	case errors.As(err, &ee):
		os.Exit(ee.code)
	default:
		fmt.Fprintf(os.Stderr, "ikesim: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		if !isTerminal(os.Stdin) || !isTerminal(os.Stdout) {
			return cmdRun([]string{scenarios.Default}, stdout)
		}
		return cmdTUI([]string{scenarios.Default}, stdout)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "--help":
		_, err := io.WriteString(stdout, usage)
		return err
	case "list":
		if len(rest) > 0 {
			return usagef("list takes no arguments")
		}
		return cmdList(stdout)
	case "run":
		return cmdRun(rest, stdout)
	case "pcap":
		return cmdPcap(rest, stdout)
	case "check":
		return cmdCheck(rest, stdout)
	case "tui":
		return cmdTUI(rest, stdout)
	case "new":
		return cmdNew(rest, stdout)
	case "import":
		return cmdImport(rest, stdout)
	case "render":
		return cmdRender(rest, stdout)
	case "live":
		return cmdLive(rest, stdout)
	case "validate":
		return cmdValidate(rest, stdout, stderr)
	}
	return usagef("unknown command %q", cmd)
}

// parse reads flags that may come before or after the positional arguments, and
// checks that exactly want positional arguments were given.
func parse(fs *flag.FlagSet, args []string, want int, what string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != want {
		return nil, usagef("%s needs %s", fs.Name(), what)
	}
	return pos, nil
}

// seedFlag is --seed: unset means the scenario's own seed.
type seedFlag struct {
	set bool
	v   uint64
}

func (s *seedFlag) String() string { return strconv.FormatUint(s.v, 10) }
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

func cmdList(w io.Writer) error {
	for _, name := range scenarios.Builtins() {
		s, err := scenarios.Load(name)
		if err != nil {
			return err
		}
		desc := strings.Join(strings.Fields(s.File.Description), " ")
		if i := strings.Index(desc, ". "); i > 0 {
			desc = desc[:i+1]
		}
		fmt.Fprintf(w, "%-22s %s\n", name, desc)
	}
	return nil
}

// simulate loads, builds and runs a scenario.
func simulate(name string, seed *seedFlag) (*scenarios.Run, error) {
	sc, err := scenarios.Load(name)
	if err != nil {
		var el scenarios.ErrorList
		if errors.As(err, &el) {
			return nil, err
		}
		return nil, usagef("%v", strings.TrimPrefix(err.Error(), "scenario: "))
	}
	r, err := scenarios.Build(sc, seed.pick(sc))
	if err != nil {
		return nil, err
	}
	r.Execute()
	return r, nil
}

func cmdRun(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var seed seedFlag
	fs.Var(&seed, "seed", "random seed (default: the scenario's)")
	asJSON := fs.Bool("json", false, "print the trace as JSON Lines")
	hideESP := fs.Bool("hide-esp", false, "leave ESP and plain IP traffic out of the diagram")
	timers := fs.Bool("timers", false, "show timers in the diagram")
	pos, err := parse(fs, args, 1, "one SCENARIO")
	if err != nil {
		return err
	}
	r, err := simulate(pos[0], &seed)
	if err != nil {
		return err
	}
	if *asJSON {
		return r.Sim.Trace.WriteJSON(w)
	}
	d := render.Build(r.Sim.Trace, render.Options{HideESP: *hideESP, ShowTimers: *timers})
	fmt.Fprintf(w, "%s (seed %d)\n\n", r.Scenario.File.Name, r.Seed)
	if err := render.WriteText(w, d, render.TextOptions{}); err != nil {
		return err
	}
	if len(r.Scenario.File.Expect) > 0 {
		fmt.Fprintf(w, "\nExpectations:\n%s", scenarios.FormatResults(scenarios.Grade(r.Scenario, r.Sim.Trace)))
	}
	return nil
}

func cmdCheck(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var seed seedFlag
	fs.Var(&seed, "seed", "random seed (default: the scenario's)")
	pos, err := parse(fs, args, 1, "one SCENARIO")
	if err != nil {
		return err
	}
	r, err := simulate(pos[0], &seed)
	if err != nil {
		return err
	}
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

func cmdValidate(args []string, w, ew io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	pos, err := parse(fs, args, 1, "one FILE")
	if err != nil {
		return err
	}
	if _, err := scenarios.Load(pos[0]); err != nil {
		fmt.Fprintln(ew, err)
		return exitError{1}
	}
	fmt.Fprintf(w, "%s: ok\n", pos[0])
	return nil
}

func cmdPcap(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("pcap", flag.ContinueOnError)
	var seed seedFlag
	fs.Var(&seed, "seed", "random seed (default: the scenario's)")
	out := fs.String("o", "", "the pcap file to write")
	keys := fs.String("keys", "", "directory for the Wireshark key tables")
	allHops := fs.Bool("all-hops", false, "also write every forwarded copy of a packet (one per link it crosses)")
	format := fs.String("format", "pcap", "pcap, or pcapng with the trace's narration as packet comments")
	pos, err := parse(fs, args, 1, "one SCENARIO")
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("pcap needs -o FILE.pcap")
	}
	write := trace.WritePcap
	switch *format {
	case "pcap":
	case "pcapng":
		write = trace.WritePcapng
	default:
		return usagef("pcap: --format %q is neither pcap nor pcapng", *format)
	}
	r, err := simulate(pos[0], &seed)
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := write(r.Sim.Trace, f, *allHops); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s\n", *out)
	if *keys == "" {
		return nil
	}
	k := trace.Keys(r.Sim.Trace)
	if err := k.Write(*keys); err != nil {
		return err
	}
	for _, s := range k.Skipped {
		fmt.Fprintf(w, "note: tshark cannot decrypt %s\n", s)
	}
	fmt.Fprintf(w, "wrote %s/{ikev2_decryption_table,ikev1_decryption_table,esp_sa}\n\ndecrypt with:\n  tshark -r %s", *keys, *out)
	for _, a := range k.TsharkArgs() {
		if strings.HasPrefix(a, "-") {
			fmt.Fprintf(w, " \\\n    %s", a)
		} else {
			fmt.Fprintf(w, " %s", shellQuote(a))
		}
	}
	fmt.Fprintln(w)
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
