package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func renderCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(append([]string{"render"}, args...), &out, &out)
	return out.String(), err
}

// TestRenderEveryFormat draws ikev2-ping in each format to a file and checks the
// start of each file.
func TestRenderEveryFormat(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ file, start string }{
		{"ping.svg", `<?xml version="1.0" encoding="UTF-8"?>` + "\n<svg "},
		{"ping.html", "<!DOCTYPE html>"},
		{"ping.mmd", "sequenceDiagram\n"},
		{"ping.puml", "@startuml\n"},
		{"ping.txt", "ikev2-ping (seed 1)\n"},
		{"ping.png", "\x89PNG\r\n"},
	} {
		out := filepath.Join(dir, tc.file)
		msg, err := renderCmd(t, "ikev2-ping", "-o", out)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if !strings.HasPrefix(msg, "wrote "+out) {
			t.Errorf("%s: printed %q", tc.file, msg)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte(tc.start)) {
			t.Errorf("%s starts with %q, want %q", tc.file, b[:min(len(b), 40)], tc.start)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ping-2.png")); err != nil {
		t.Errorf("the long ikev2-ping diagram did not make a second PNG page: %v", err)
	}
}

// TestRenderSavedTrace draws a trace saved by run --json and gets the same mermaid
// text as from the scenario, less the title.
func TestRenderSavedTrace(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "ping.jsonl")
	var js bytes.Buffer
	if err := run([]string{"run", "ikev2-ping", "--json"}, &js, &js); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(trace, js.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	fromTrace, err := renderCmd(t, trace, "--format", "mermaid")
	if err != nil {
		t.Fatal(err)
	}
	fromScenario, err := renderCmd(t, "ikev2-ping", "--format", "mermaid")
	if err != nil {
		t.Fatal(err)
	}
	body := func(s string) string { return s[strings.Index(s, "participant"):] }
	if body(fromTrace) != body(fromScenario) {
		t.Errorf("the saved trace draws differently from the scenario")
	}
	if !strings.Contains(fromTrace, "title ping.jsonl") {
		t.Errorf("the trace's diagram is not titled by its file:\n%.200s", fromTrace)
	}
}

func TestRenderUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"ikev2-ping", "--format", "gif"},
		{"ikev2-ping", "--view", "timeline"},
		{"ikev2-ping", "--view", "topology", "--format", "png"},
		{"ikev2-ping", "--format", "png"},
		{"ikev2-ping", "--format", "dot"},
		{"ikev2-ping", "--from", "soon"},
		{"ikev2-ping", "--view", "states", "--node", "nowhere", "--format", "dot"},
		{"no-such-scenario"},
	} {
		_, err := renderCmd(t, args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("render %q: %v, want a usage error", args, err)
		}
	}
}

// TestRenderDOT writes the topology and state views as DOT, which needs no Graphviz.
func TestRenderDOT(t *testing.T) {
	topo, err := renderCmd(t, "ikev2-nat", "--view", "topology", "--format", "dot")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"nat" [`, "shape=octagon", "NAT outside 198.51.100.1", `"gw-a" -- "nat"`, "192.168.1.0/24", "class=\"ike\""} {
		if !strings.Contains(topo, want) {
			t.Errorf("the topology DOT has no %q:\n%s", want, topo)
		}
	}
	states, err := renderCmd(t, "ikev2-modern", "--view", "states", "--node", "gw-b", "--format", "dot")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gw-b: IKE states", `class="state seen"`, `class="transition seen"`, "REKEYING"} {
		if !strings.Contains(states, want) {
			t.Errorf("the states DOT has no %q", want)
		}
	}
}

var (
	graphOnce sync.Once
	graphBin  string
	graphErr  error
)

// TestRenderGraphSVG builds ikesim-graph and draws both graph views through it.
func TestRenderGraphSVG(t *testing.T) {
	graphOnce.Do(func() {
		graphBin = filepath.Join(os.TempDir(), "ikesim-graph-test")
		out, err := exec.Command("go", "build", "-o", graphBin, "github.com/ikesim/ikesim/cmd/ikesim-graph").CombinedOutput()
		if err != nil {
			graphErr = errors.New(string(out))
		}
	})
	if graphErr != nil {
		t.Fatalf("building ikesim-graph: %v", graphErr)
	}
	t.Setenv("IKESIM_GRAPH", graphBin)
	for _, view := range []string{"topology", "states"} {
		out, err := renderCmd(t, "ikev2-ping", "--view", view)
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(strings.NewReader(out))
		dec.Strict = false
		ids := map[string]bool{}
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: the SVG is not XML: %v", view, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				for _, a := range se.Attr {
					if a.Name.Local == "id" {
						ids[a.Value] = true
					}
				}
			}
		}
		want := map[string]string{"topology": "node-gw-a", "states": "state-IKE SA-ESTABLISHED"}[view]
		if !ids[want] {
			t.Errorf("%s: the SVG has no element with id %q", view, want)
		}
	}
	t.Setenv("IKESIM_GRAPH", filepath.Join(t.TempDir(), "missing"))
	if _, err := renderCmd(t, "ikev2-ping", "--view", "topology"); err == nil {
		t.Errorf("a missing ikesim-graph is not an error")
	}
}

// buildTool builds a command of this module into a temporary directory.
func buildTool(b *testing.B, pkg, name string) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		b.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// BenchmarkStartGraphTool measures what linking go-graphviz costs a process: it starts
// ikesim-graph on a two-node graph, whose time is almost all the WebAssembly
// compilation in go-graphviz's init (with the compilation cache in the temporary
// directory warm after the first run). BenchmarkStartHelp is the baseline: ikesim
// help, a process that does not link go-graphviz and does next to nothing.
func BenchmarkStartGraphTool(b *testing.B) {
	bin := buildTool(b, "github.com/ikesim/ikesim/cmd/ikesim-graph", "ikesim-graph")
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command(bin)
		cmd.Stdin = strings.NewReader("digraph { a -> b }")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}

func BenchmarkStartHelp(b *testing.B) {
	bin := buildTool(b, "github.com/ikesim/ikesim/cmd/ikesim", "ikesim")
	b.ResetTimer()
	for b.Loop() {
		if out, err := exec.Command(bin, "help").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}

// TestRenderFigure draws ikev2-ping with --figure: one PNG page at most 1,400 pixels
// wide, the SVG as wide, only the two gateways' lanes, no action boxes or notes, the
// phase headers and the SA legend kept.
func TestRenderFigure(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "fig.png")
	msg, err := renderCmd(t, "ikev2-ping", "--figure", "-o", out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(msg, "wrote ") != 1 {
		t.Errorf("--figure wrote more than one page: %q", msg)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width > 1400 || cfg.Width < 400 {
		t.Errorf("the figure is %d pixels wide, want at most 1,400", cfg.Width)
	}
	svgOut := filepath.Join(dir, "fig.svg")
	if _, err := renderCmd(t, "ikev2-ping", "--figure", "-o", svgOut); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(svgOut)
	if err != nil {
		t.Fatal(err)
	}
	var root struct {
		Width float64 `xml:"width,attr"`
	}
	if err := xml.Unmarshal(doc, &root); err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	if root.Width > 1400 {
		t.Errorf("the SVG figure is %.0f pixels wide", root.Width)
	}
	for _, want := range []string{`aria-label="gw-a"`, `aria-label="gw-b"`, `aria-label="IKE SA Setup"`, `aria-label="IKE SA lifetime"`, `aria-label="Child SA lifetime"`, `class="phase"`} {
		if !strings.Contains(s, want) {
			t.Errorf("the figure lacks %s", want)
		}
	}
	for _, bad := range []string{`aria-label="host-a"`, `class="action"`, `class="state"`, `aria-label="node host-a`, "timeline:"} {
		if strings.Contains(s, bad) {
			t.Errorf("the figure has %s", bad)
		}
	}
}
