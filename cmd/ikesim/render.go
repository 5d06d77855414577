package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ikesim/ikesim/render"
	_ "github.com/ikesim/ikesim/render/all" // every format registers itself
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/sim/trace"
)

const renderUsage = `usage: ikesim render SCENARIO|TRACE.jsonl [-o FILE] [--format F] [--view V] [options]

  --format svg|png|html|mermaid|plantuml|text|dot   (default: from -o's extension, else svg)
  --view sequence|topology|states                   (default sequence; topology and states
                                                      draw as svg or dot)
  --node N          the node whose state machines --view states draws
  --nodes A,B,...   lanes to show, in order          --from T, --to T   time window (1.5s)
  --hide-esp  --hide-actions  --hide-states  --timers  --collapse-retx  --no-notes
  --embed-font      SVG text as <text> in the embedded Go fonts (browsers only)
  --scale K, --page-height H   for png
  --figure          a figure for a document: the message flow between the IKE peers
                    (or --nodes), phase headers and a legend for the SA bars; no actions,
                    states or notes, and one PNG page unless --page-height says otherwise
  --seed N          the scenario's random seed

png writes one file per page: FILE, FILE-2.png, ... Without -o the text formats go to
standard output. A saved trace (ikesim run --json) is drawn as it is.`

// durationFlag is a time like 1.5s or 200ms.
type durationFlag struct{ d time.Duration }

func (f *durationFlag) String() string { return f.d.String() }
func (f *durationFlag) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q is not a duration like 1.5s", v)
	}
	f.d = d
	return nil
}

// cmdRender draws a scenario's run or a saved trace.
func cmdRender(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	var seed seedFlag
	fs.Var(&seed, "seed", "random seed (default: the scenario's)")
	out := fs.String("o", "", "the file to write")
	format := fs.String("format", "", "svg, png, html, mermaid, plantuml, text or dot")
	view := fs.String("view", "sequence", "sequence, topology or states")
	node := fs.String("node", "", "the node of --view states")
	nodes := fs.String("nodes", "", "lanes to show, comma-separated")
	var from, to durationFlag
	fs.Var(&from, "from", "start of the time window")
	fs.Var(&to, "to", "end of the time window")
	hideESP := fs.Bool("hide-esp", false, "leave out ESP and plain IP traffic")
	hideActions := fs.Bool("hide-actions", false, "leave out action boxes")
	hideStates := fs.Bool("hide-states", false, "leave out state changes")
	timers := fs.Bool("timers", false, "show timers")
	collapse := fs.Bool("collapse-retx", false, "fold retransmissions into the first send")
	noNotes := fs.Bool("no-notes", false, "leave out the notes column")
	embed := fs.Bool("embed-font", false, "SVG text as <text> in the embedded Go fonts")
	figure := fs.Bool("figure", false, "a figure for a document: message flow, phase headers, SA legend")
	scale := fs.Float64("scale", 2, "png: device pixels per layout pixel")
	pageH := fs.Float64("page-height", 2400, "png: the most rows one page holds, in layout pixels")
	pos, err := parse(fs, args, 1, "one SCENARIO or TRACE.jsonl\n"+renderUsage)
	if err != nil {
		return err
	}
	f := *format
	if f == "" {
		if f = render.FormatOfExt(filepath.Ext(*out)); f == "" {
			f = "svg"
		}
	}
	rf, err := render.Lookup(*view, f)
	if err != nil {
		return usagef("%v", err)
	}
	if rf.NeedsFile && (*out == "" || *out == "-") {
		return usagef("render: %s needs -o FILE", f)
	}
	o := render.Options{From: from.d, To: to.d, HideESP: *hideESP, HideActions: *hideActions,
		HideStates: *hideStates && *view != "states", ShowTimers: *timers, CollapseRetx: *collapse}
	if *nodes != "" {
		for _, n := range strings.Split(*nodes, ",") {
			if n = strings.TrimSpace(n); n != "" {
				o.Nodes = append(o.Nodes, n)
			}
		}
	}
	in, err := load(pos[0], &seed)
	if err != nil {
		return err
	}
	if *figure {
		o = render.Figure(in.trace, o)
		if !flagSet(fs, "page-height") {
			*pageH = math.MaxFloat64 // one page
		}
	}
	ri := &render.Input{Diagram: render.Build(in.trace, o), Title: in.title, Out: *out, Notes: !*noNotes, Figure: *figure,
		EmbedFont: *embed, Scale: *scale, PageHeight: *pageH, Node: *node, Topology: in.topology, LayoutDOT: graphSVG,
		Trace: in.trace, Lab: in.lab}
	var buf bytes.Buffer
	files, err := rf.Render(ri, &buf)
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
	if rf.NeedsFile {
		return nil
	}
	if *out == "" || *out == "-" {
		_, err := w.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s\n", *out)
	return nil
}

// flagSet reports whether the command line set flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// input is what render draws: a trace, its title, and the topology when a scenario
// describes it.
type input struct {
	trace    *trace.Trace
	title    string
	topology *render.Topology
	lab      *render.Lab // a scenario's lab, for the web player
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
		topology: topologyOf(r.Scenario.File), lab: webLab(r)}, nil
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

// topologyOf describes a scenario file's network for the topology view.
func topologyOf(f *scenarios.File) *render.Topology {
	t := &render.Topology{Name: f.Name}
	owner := map[string]string{} // address -> node
	for _, n := range f.Topology.Nodes {
		gn := render.TopoNode{Name: n.Name, Kind: n.Kind}
		for _, p := range n.Prefixes() {
			gn.Addrs = append(gn.Addrs, p.String())
			owner[p.Addr().String()] = n.Name
		}
		if n.NAT != nil {
			gn.NAT = n.NAT.Outside
		}
		t.Nodes = append(t.Nodes, gn)
	}
	for _, l := range f.Topology.Links {
		if len(l.Between) != 2 {
			continue
		}
		var what []string
		if l.Delay != 0 {
			what = append(what, l.Delay.D().String())
		}
		if l.Jitter != 0 {
			what = append(what, "±"+l.Jitter.D().String())
		}
		for _, p := range []struct {
			v    scenarios.Percent
			name string
		}{{l.Loss, "loss"}, {l.Duplicate, "duplicated"}, {l.Reorder, "reordered"}, {l.Corrupt, "corrupted"}} {
			if p.v != 0 {
				what = append(what, fmt.Sprintf("%g%% %s", float64(p.v)*100, p.name))
			}
		}
		if l.MTU != 0 {
			what = append(what, fmt.Sprintf("MTU %d", l.MTU))
		}
		t.Links = append(t.Links, render.TopoLink{A: l.Between[0], B: l.Between[1], Label: strings.Join(what, ", ")})
	}
	seen := map[[2]string]bool{}
	var nodes []string
	for n := range f.Connections {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		var conns []string
		for c := range f.Connections[n] {
			conns = append(conns, c)
		}
		sort.Strings(conns)
		for _, c := range conns {
			spec := f.Connections[n][c]
			for _, ra := range spec.RemoteAddrs {
				peer := owner[ra]
				if peer == "" {
					continue
				}
				k := [2]string{min(n, peer), max(n, peer)}
				if seen[k] {
					continue
				}
				seen[k] = true
				t.Peers = append(t.Peers, render.TopoPeer{A: n, B: peer, Label: "IKE " + c + " " + strings.Join(spec.Proposals, ",")})
			}
		}
	}
	return t
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
