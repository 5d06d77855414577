// Package rendertest gives the renderers' tests their inputs and golden files: the
// traces of the built-in scenarios and of a lossy test scenario, run once per test
// binary, and a -update flag that rewrites testdata/*.golden.
package rendertest

import (
	"bytes"
	_ "embed"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/sim/trace"
)

// Update rewrites golden files instead of comparing with them.
var Update = flag.Bool("update", false, "rewrite the golden files in testdata/")

//go:embed testdata/lossy.yaml
var lossyYAML []byte

// Lossy is the name of the test scenario whose first IKE_AUTH request is lost.
const Lossy = "lossy"

// Scenarios are the built-in scenarios and the lossy one.
func Scenarios() []string { return append(scenarios.Builtins(), Lossy) }

type result struct {
	run *scenarios.Run
	err error
}

var (
	mu   sync.Mutex
	runs = map[string]*result{}
)

// Run runs scenario name (a built-in or Lossy) once per test binary.
func Run(t testing.TB, name string) *scenarios.Run {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	r, ok := runs[name]
	if !ok {
		r = &result{}
		runs[name] = r
		defer func() {
			if p := recover(); p != nil { // a scenario that crashes fails its own tests only
				r.run, r.err = nil, fmt.Errorf("panic: %v", p)
				t.Fatalf("rendertest: scenario %s: %v", name, r.err)
			}
		}()
		var sc *scenarios.Scenario
		if name == Lossy {
			sc, r.err = scenarios.Parse(lossyYAML, "testdata/lossy.yaml")
		} else {
			sc, r.err = scenarios.Load(name)
		}
		if r.err == nil {
			r.run, r.err = scenarios.Build(sc, sc.Seed)
		}
		if r.err == nil {
			r.run.Execute()
			for _, e := range r.run.Sim.Trace.Events {
				e.Fields() // dissect now, while only one goroutine looks
			}
		}
	}
	if r.err != nil {
		t.Fatalf("rendertest: scenario %s: %v", name, r.err)
	}
	return r.run
}

// Trace is the trace of scenario name.
func Trace(t testing.TB, name string) *trace.Trace { return Run(t, name).Sim.Trace }

// Title is what the renderers' tests show as the diagram's title.
func Title(t testing.TB, name string) string { return Run(t, name).Scenario.File.Name }

// Diagram builds the diagram of scenario name.
func Diagram(t testing.TB, name string, o render.Options) *render.Diagram {
	return render.Build(Trace(t, name), o)
}

// Golden compares got with testdata/<file>, or rewrites the file under -update.
func Golden(t testing.TB, file string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (%d bytes, want %d); first difference at line %d; run go test -update if the change is right",
			path, len(got), len(want), firstDiffLine(got, want))
	}
}

func firstDiffLine(a, b []byte) int {
	line := 1
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return line
		}
		if a[i] == '\n' {
			line++
		}
	}
	return line
}

// RunYAML runs the scenario that src holds, read as the file at path.
func RunYAML(t testing.TB, src []byte, path string) *scenarios.Run {
	t.Helper()
	sc, err := scenarios.Parse(src, path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := scenarios.Build(sc, sc.Seed)
	if err != nil {
		t.Fatal(err)
	}
	r.Execute()
	return r
}

// Big runs the lossy scenario with pings every second until its trace holds at least
// n messages, and returns the trace cut after the n-th message: a long trace for
// benchmarks.
func Big(t testing.TB, n int) *trace.Trace {
	t.Helper()
	pings := n/6 + 10 // each answered ping puts six messages on the wires
	src := bytes.Replace(lossyYAML, []byte("count: 1}"), []byte("count: "+strconv.Itoa(pings)+", interval: 1s}"), 1)
	src = bytes.Replace(src, []byte("duration: 8s"), []byte("duration: "+strconv.Itoa(pings+20)+"s"), 1)
	tr := RunYAML(t, src, "testdata/big.yaml").Sim.Trace
	seen := 0
	for i, e := range tr.Events {
		if e.Kind == trace.KindMessage {
			seen++
			if seen == n {
				tr.Events = tr.Events[:i+1]
				return tr
			}
		}
	}
	t.Fatalf("rendertest: the big scenario made only %d messages, want %d", seen, n)
	return nil
}
