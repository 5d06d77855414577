package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/render"
	_ "github.com/ikesim/ikesim/render/all" // every format registers itself
	"github.com/ikesim/ikesim/sim/trace"
)

// durationFlag is a time like 1.5s or 200ms.
type durationFlag struct{ d time.Duration }

func (f *durationFlag) String() string {
	if f.d == 0 {
		return ""
	}
	return f.d.String()
}
func (f *durationFlag) Type() string { return "duration" }
func (f *durationFlag) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q is not a duration like 1.5s", v)
	}
	f.d = d
	return nil
}

// renderFlags are the command line of ikesim render.
type renderFlags struct {
	seed                                     seedFlag
	out, format, view, node                  string
	lanes                                    laneFlags
	from, to                                 durationFlag
	hideESP, hideActions, hideStates, timers bool
	collapse, noNotes, embed, figure         bool
	scale, pageH                             float64
}

func init() {
	register(func() *cobra.Command {
		var rf renderFlags
		cmd := &cobra.Command{
			Use:   "render SCENARIO|TRACE.jsonl [-o FILE] [--format F] [--view V]",
			Short: "Diagrams for documents and the browser: SVG, PNG, HTML, Mermaid, PlantUML, text, DOT",
			Long: `render draws a scenario's run, or a saved JSON Lines trace as it is.

The format comes from --format, else from -o's extension (.svg .png .html .mmd .puml
.txt .dot), else svg; an extension render does not know is an error. png writes one file
per page: FILE.png, FILE-2.png, FILE-3.png, ... Without -o (or with -o -) the text
formats go to standard output.

--view sequence (the default) is the sequence diagram; --view topology draws the network
and --view states the state machines of one node (--node), as svg (laid out by
ikesim-graph, found next to ikesim, then on PATH) or as dot.`,
			Example: `  ikesim render ikev2-ping -o ping.html            # click any message
  ikesim render ikev2-ping -o ping.png --hide-esp   # ping.png, ping-2.png, ...
  ikesim render ikev2-nat --view states --node gw-a -o states.svg
  ikesim render ikev2-ping --figure -o figure.png   # the message flow, one page`,
			Args:              exactArgs(1, "one SCENARIO or TRACE.jsonl"),
			ValidArgsFunction: completeScenario,
			RunE: func(cmd *cobra.Command, args []string) error {
				if rf.figure && !cmd.Flags().Changed("page-height") {
					rf.pageH = math.MaxFloat64 // one page
				}
				return renderTo(cmd.OutOrStdout(), args[0], &rf)
			},
		}
		f := cmd.Flags()
		f.Var(&rf.seed, "seed", "random seed (default: the scenario's own)")
		f.StringVarP(&rf.out, "output", "o", "", "the `FILE` to write (- or none: standard output)")
		f.StringVar(&rf.format, "format", "", "svg, png, html, mermaid, plantuml, text or dot (default: from -o's extension, else svg)")
		f.StringVar(&rf.view, "view", "sequence", "sequence, topology or states (topology and states draw as svg or dot)")
		f.StringVar(&rf.node, "node", "", "the node whose state machines --view states draws (default: the first)")
		f.Var(&rf.from, "from", "start of the time window, e.g. 1.5s")
		f.Var(&rf.to, "to", "end of the time window, e.g. 3s")
		f.BoolVar(&rf.hideESP, "hide-esp", false, "leave out ESP and plain IP traffic")
		f.BoolVar(&rf.hideActions, "hide-actions", false, "leave out action boxes")
		f.BoolVar(&rf.hideStates, "hide-states", false, "leave out state changes")
		f.BoolVar(&rf.timers, "timers", false, "show timers")
		f.BoolVar(&rf.collapse, "collapse-retx", false, "fold retransmissions into the first send")
		f.BoolVar(&rf.noNotes, "no-notes", false, "leave out the notes column")
		f.BoolVar(&rf.embed, "embed-font", false, "svg: text as <text> in the embedded Go fonts (browsers only)")
		f.BoolVar(&rf.figure, "figure", false, "a figure for a document: the message flow between the IKE peers (or --nodes), phase headers and a legend for the SA bars; no actions, states or notes, and one PNG page unless --page-height says otherwise")
		f.Float64Var(&rf.scale, "scale", 2, "png: device pixels per layout pixel")
		f.Float64Var(&rf.pageH, "page-height", 2400, "png: the most rows one page holds, in layout pixels")
		cmd.RegisterFlagCompletionFunc("format", fixedCompletions(render.Names()))
		cmd.RegisterFlagCompletionFunc("view", fixedCompletions(render.Views()))
		cmd.RegisterFlagCompletionFunc("node", completeNode)
		addLaneFlags(cmd, &rf.lanes)
		return cmd
	})
}

// outputFormat is the format render writes: --format, else the one of -o's extension,
// else svg. An unknown format or extension is a usage error.
func outputFormat(format, out string) (string, error) {
	if format != "" {
		if err := oneOf("format", format, render.Names()); err != nil {
			return "", err
		}
		return format, nil
	}
	ext := strings.ToLower(filepath.Ext(out))
	if out == "" || out == "-" || ext == "" {
		return "svg", nil
	}
	if f := render.FormatOfExt(ext); f != "" {
		return f, nil
	}
	exts := render.Exts()
	return "", usagef("render: -o %s: unknown extension %q%s (known: %s); or name the format with --format",
		out, ext, didYouMean(ext, exts), strings.Join(exts, " "))
}

// renderTo draws a scenario's run or a saved trace as the flags say.
func renderTo(w io.Writer, name string, rf *renderFlags) error {
	f, err := outputFormat(rf.format, rf.out)
	if err != nil {
		return err
	}
	if err := oneOf("view", rf.view, render.Views()); err != nil {
		return err
	}
	format, err := render.Lookup(rf.view, f)
	if err != nil {
		return usagef("%v", err)
	}
	if format.NeedsFile && (rf.out == "" || rf.out == "-") {
		return usagef("render: %s needs -o FILE", f)
	}
	o := render.Options{From: rf.from.d, To: rf.to.d, HideESP: rf.hideESP, HideActions: rf.hideActions,
		HideStates: rf.hideStates && rf.view != "states", ShowTimers: rf.timers, CollapseRetx: rf.collapse}
	in, err := load(name, &rf.seed)
	if err != nil {
		return err
	}
	if err := rf.lanes.apply(in.trace, &o); err != nil {
		return err
	}
	if rf.node != "" {
		if err := checkNodes(in.trace, []string{rf.node}, "--node"); err != nil {
			return err
		}
	}
	if rf.figure {
		o = render.Figure(in.trace, o)
	}
	ri := &render.Input{Diagram: render.Build(in.trace, o), Title: in.title, Name: in.name, Out: rf.out, Notes: !rf.noNotes, Figure: rf.figure,
		EmbedFont: rf.embed, Scale: rf.scale, PageHeight: rf.pageH, Node: rf.node, LayoutDOT: graphSVG,
		Trace: in.trace, Lab: in.lab}
	var buf bytes.Buffer
	files, err := format.Render(ri, &buf)
	var ie *render.InputError
	if errors.As(err, &ie) {
		return usagef("render: %v", strings.TrimPrefix(ie.Msg, "graph: "))
	}
	if err != nil {
		return err
	}
	for _, name := range files {
		fmt.Fprintf(w, "wrote %s\n", name)
	}
	if format.NeedsFile {
		return nil
	}
	if rf.out == "" || rf.out == "-" {
		_, err := w.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(rf.out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s\n", rf.out)
	return nil
}

// input is what render draws: a trace, its title, and a scenario's name and lab.
type input struct {
	trace *trace.Trace
	title string
	name  string      // the scenario's name, for the topology view ("": title)
	lab   *render.Lab // a scenario's lab, for the web player
}

// load runs a scenario, or reads a saved JSON Lines trace (a file whose first
// non-blank byte is '{').
func load(name string, seed *seedFlag) (*input, error) {
	if isTrace(name) {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		tr, err := trace.ReadJSON(f)
		if err != nil {
			return nil, err
		}
		return &input{trace: tr, title: filepath.Base(name)}, nil
	}
	r, err := simulate(name, seed)
	if err != nil {
		return nil, err
	}
	return &input{trace: r.Sim.Trace, title: fmt.Sprintf("%s (seed %d)", r.Scenario.File.Name, r.Seed),
		name: r.Scenario.File.Name, lab: webLab(r)}, nil
}

func isTrace(name string) bool {
	if strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".json") {
		return true
	}
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	br := bufio.NewReader(f)
	for {
		c, err := br.ReadByte()
		if err != nil {
			return false
		}
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return c == '{'
		}
	}
}

// graphTool finds ikesim-graph, the binary that lays out graph views. It is a
// separate program because go-graphviz compiles its WebAssembly when a process that
// links it starts: in ikesim itself, every command would pay for it.
func graphTool() (string, error) {
	if p := os.Getenv("IKESIM_GRAPH"); p != "" {
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "ikesim-graph")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("ikesim-graph"); err == nil {
		return p, nil
	}
	return "", errors.New("render: the graph views are laid out by ikesim-graph, which is not installed " +
		"(go install github.com/ikesim/ikesim/cmd/ikesim-graph, or set IKESIM_GRAPH); --format dot writes the graph for Graphviz's own dot")
}

// graphSVG lays out DOT as SVG with ikesim-graph.
func graphSVG(dot []byte, w io.Writer) error {
	tool, err := graphTool()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool)
	cmd.Stdin = bytes.NewReader(dot)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("render: %s: %v: %s", tool, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// checkNodes checks that every node named by flag is in the trace, with the nearest name
// otherwise.
func checkNodes(tr *trace.Trace, nodes []string, flag string) error {
	known := traceNodes(tr)
	for _, n := range nodes {
		if !slices.Contains(known, n) {
			return usagef("render: %s: no node %q in the trace%s (%s)", flag, n, didYouMean(n, known), strings.Join(known, ", "))
		}
	}
	return nil
}
