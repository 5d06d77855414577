package scenarios

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// traceSchema compiles docs/trace.schema.json, the specification of the trace format.
func traceSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	s, err := c.Compile(filepath.Join("..", "docs", "trace.schema.json"))
	if err != nil {
		t.Fatalf("compile the trace schema: %v", err)
	}
	return s
}

// validateTrace checks every line of a trace's JSON Lines against the schema.
func validateTrace(t *testing.T, s *jsonschema.Schema, tr *trace.Trace) {
	t.Helper()
	var buf bytes.Buffer
	if err := tr.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	bad := 0
	for line := 1; sc.Scan(); line++ {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(sc.Bytes()))
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		if err := s.Validate(v); err != nil {
			if bad++; bad <= 3 {
				t.Errorf("line %d does not follow the schema: %v\n%.300s", line, err, sc.Text())
			}
		}
	}
	if bad > 3 {
		t.Errorf("... %d lines in all do not follow the schema", bad)
	}
}

// TestTraceSchema: the trace of every built-in scenario follows docs/trace.schema.json.
func TestTraceSchema(t *testing.T) {
	s := traceSchema(t)
	for _, name := range Builtins() {
		t.Run(name, func(t *testing.T) {
			sc, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			validateTrace(t, s, run(t, sc, sc.Seed).Sim.Trace)
		})
	}
}

// TestGroupTraceSchema: the trace of a group on a segment, whose topology events carry
// the group and the segment, follows the schema.
func TestGroupTraceSchema(t *testing.T) {
	sc, err := Parse(RoadWarriors(3, 1), "rw.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tr := run(t, sc, 1).Sim.Trace
	var group, segment bool
	for _, e := range tr.Events {
		if e.Kind == trace.KindTopology {
			group = group || e.Topology.Group == "rw"
			for _, i := range e.Topology.Ifaces {
				segment = segment || i.Segment == "lan"
			}
		}
	}
	if !group || !segment {
		t.Fatalf("the topology events name no group (%v) or no segment (%v)", group, segment)
	}
	validateTrace(t, traceSchema(t), tr)
}

// TestImportedTraceSchema: ikesim import writes the same format, for a capture of a
// simulated run (decrypted with its own key tables) and for the strongSwan captures in
// ike/testenv/testdata/captures, decrypted with their key tables.
func TestImportedTraceSchema(t *testing.T) {
	s := traceSchema(t)
	for _, name := range []string{"ikev2-nat", "ikev1-nat-dpd"} {
		t.Run(name, func(t *testing.T) {
			_, pcap, dir := builtinCapture(t, name)
			keys, err := sim.ReadKeyDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			im, err := sim.Import(bytes.NewReader(pcap), sim.ImportOptions{Keys: keys})
			if err != nil {
				t.Fatal(err)
			}
			validateTrace(t, s, im)
			if im.Events[0].Version != trace.Version {
				t.Errorf("the first imported event has version %d, want %d", im.Events[0].Version, trace.Version)
			}
		})
	}
	captures, _ := filepath.Glob(filepath.Join(testenv.Captures(t), "*.pcap"))
	if len(captures) < 5 {
		t.Fatalf("only %d strongSwan captures", len(captures))
	}
	for _, c := range captures {
		t.Run(filepath.Base(c), func(t *testing.T) {
			f, err := os.Open(c)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var keys sim.ImportKeys
			if dir := strings.TrimSuffix(c, ".pcap") + ".keys"; dirExists(dir) {
				if keys, err = sim.ReadKeyDir(dir); err != nil {
					t.Fatal(err)
				}
			}
			im, err := sim.Import(f, sim.ImportOptions{Keys: keys})
			if err != nil {
				t.Fatal(err)
			}
			validateTrace(t, s, im)
			// The IKE SA states inferred from a decrypted IKEv2 capture are in the format too.
			if len(keys.IKEv2) > 0 && !slices.ContainsFunc(im.Events, func(e *trace.Event) bool { return e.Kind == trace.KindState }) {
				t.Error("the imported IKEv2 capture has no state changes")
			}
		})
	}
}

// TestTraceSchemaRejects: the schema is strict enough to catch what it promises.
func TestTraceSchemaRejects(t *testing.T) {
	s := traceSchema(t)
	for _, tc := range []struct{ name, line string }{
		{"no node", `{"seq":2,"t":0,"kind":"info","text":"x"}`},
		{"first event without version", `{"seq":1,"t":0,"kind":"info","node":"scenario"}`},
		{"unknown field", `{"seq":2,"t":0,"kind":"info","node":"a","colour":"red"}`},
		{"drop without cause", `{"seq":2,"t":0,"kind":"drop","node":"a","text":"lost"}`},
		{"error without failure", `{"seq":2,"t":0,"kind":"error","node":"a","text":"bad"}`},
		{"bad SPI", `{"seq":2,"t":0,"kind":"message","node":"a","from":"a","to":"b","proto":"esp","spi":"xyz"}`},
		{"unknown kind", `{"seq":2,"t":0,"kind":"gossip","node":"a"}`},
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.line))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); err == nil {
			t.Errorf("%s: %s passes the schema", tc.name, tc.line)
		}
	}
	var ok map[string]any
	if err := json.Unmarshal([]byte(`{"seq":1,"t":0,"kind":"info","node":"scenario","version":2}`), &ok); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(ok); err != nil {
		t.Errorf("a minimal first event fails the schema: %v", err)
	}
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
