package config_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
	_ "github.com/ikesim/ikesim/scenarios/ios"
	_ "github.com/ikesim/ikesim/scenarios/swanctl"
)

// TestExportImportRoundTrip: for every built-in scenario and every format, each node
// with connections is exported; when the format can say all of it (the export has no
// notes), importing the exported files gives back connections that do the same: the
// same versions, addresses, offers, identities, keys, timers and children
// (config.Canonical). The built-ins a format cannot express are listed with why. What a
// format does its own way (an adapted note) does not count: IOS starts every crypto map
// on traffic, so start actions are not compared for it.
func TestExportImportRoundTrip(t *testing.T) {
	expressed := map[string][]string{}
	// The built-ins, and scenarios made to use what IOS can say (the built-ins mostly
	// use what it cannot).
	names := scenarios.Builtins()
	extra, _ := filepath.Glob("testdata/roundtrip/*.yaml")
	names = append(names, extra...)
	for _, f := range config.Formats() {
		for _, name := range names {
			t.Run(f.Name()+"/"+strings.TrimSuffix(filepath.Base(name), ".yaml"), func(t *testing.T) {
				sc, err := scenarios.Load(name)
				if err != nil {
					t.Fatal(err)
				}
				var nodes []string
				for n := range sc.File.Connections {
					nodes = append(nodes, n)
				}
				sort.Strings(nodes)
				dir := t.TempDir()
				var inputs []config.Input
				var why []string
				for _, n := range nodes {
					data, notes, err := f.Export(sc, n)
					if err != nil {
						t.Fatal(err)
					}
					for _, note := range notes {
						if !note.Adapted {
							why = append(why, n+": "+note.Msg)
						}
					}
					path := filepath.Join(dir, n+"."+f.Name())
					if err := os.WriteFile(path, data, 0o644); err != nil {
						t.Fatal(err)
					}
					inputs = append(inputs, config.Input{Node: n, Path: path, Data: data})
				}
				if len(why) > 0 {
					t.Skipf("%s cannot say all of %s: %s", f.Name(), name, strings.Join(why, "; "))
				}
				r, err := config.Import(inputs, config.Options{Out: filepath.Join(dir, "back.yaml")})
				if err != nil {
					t.Fatalf("the exported configurations do not import: %v", err)
				}
				back, err := r.Scenario()
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range nodes {
					want, err := sc.NodeConnections(n)
					if err != nil {
						t.Fatal(err)
					}
					got, err := back.NodeConnections(n)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != len(want) {
						t.Fatalf("node %s: %d connections back, want %d", n, len(got), len(want))
					}
					for i := range want {
						anyStart := f.Name() == "ios" // a crypto map starts on traffic: an adapted note says so
						if w, g := config.Canonical(want[i], anyStart), config.Canonical(got[i], anyStart); w != g {
							t.Errorf("node %s, connection %s:\nexported:\n%s\nimported back:\n%s", n, want[i].Name, w, g)
						}
					}
				}
				expressed[f.Name()] = append(expressed[f.Name()], name)
			})
		}
	}
	for _, f := range config.Formats() {
		t.Logf("%s round trips: %s", f.Name(), strings.Join(expressed[f.Name()], ", "))
	}
	// What the formats can say today: a round trip that stops working, or a format that
	// stops saying a built-in, fails here rather than being skipped.
	if n := len(expressed["swanctl"]); n < 22 {
		t.Errorf("swanctl round trips %d scenarios, want at least 22", n)
	}
	if n := len(expressed["ios"]); n < 4 {
		t.Errorf("ios round trips %d scenarios, want at least 4", n)
	}
}
