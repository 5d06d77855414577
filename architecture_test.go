package ikesim_test

import (
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The import rules of ARCHITECTURE.md. Test files are not checked: tests may build on
// anything.

const module = "github.com/ikesim/ikesim/"

// floorOf places a package of ikesim (its path in the module) on its floor.
func floorOf(pkg string) int {
	switch top := strings.SplitN(pkg, "/", 2)[0]; {
	case top == "cmd":
		return 5
	case top == "scenarios" || top == "render":
		return 4
	case pkg == "sim/trace":
		return 2
	case top == "sim":
		return 3
	case top == "ipsec":
		return 2
	case top == "ike":
		return 1
	}
	return 0 // assets
}

// uiPackages may be imported only by the front ends that need them.
var uiPackages = []string{"github.com/rivo/tview", "github.com/gdamore/tcell", "github.com/goccy/go-graphviz"}

// allowed reports whether package pkg may import imp (both paths in the module), and
// why not.
func allowed(pkg, imp string) (bool, string) {
	topP, topI := strings.SplitN(pkg, "/", 2)[0], strings.SplitN(imp, "/", 2)[0]
	fp, fi := floorOf(pkg), floorOf(imp)
	switch {
	case pkg == "sim/trace":
		return imp == "ike" || imp == "ipsec", "sim/trace imports only ike and ipsec"
	case topP == "render" && (topI == "sim" && imp != "sim/trace" || imp == "ipsec" || strings.HasPrefix(imp, "ike/")):
		return false, "render reads the trace (sim/trace), never the simulator, ipsec or the engines"
	case pkg == "render/internal/rendertest" && imp == "scenarios":
		return true, "" // the renderers' test helper runs scenarios
	case topP == topI && fp == fi:
		return true, "" // inside its own tree
	case fi >= fp:
		return false, "a package imports only packages on lower floors"
	}
	return true, ""
}

func TestImportFloors(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		p, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files here
		}
		pkg := filepath.ToSlash(path)
		if pkg == "." {
			return nil
		}
		checked++
		for _, imp := range p.Imports {
			if slices.ContainsFunc(uiPackages, func(u string) bool { return strings.HasPrefix(imp, u) }) &&
				pkg != "render/tui" && pkg != "render/graph/graphviz" && !strings.HasPrefix(pkg, "cmd/") {
				t.Errorf("%s imports %s: only render/tui, render/graph/graphviz and the commands import UI packages", pkg, imp)
			}
			rel, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			if ok, why := allowed(pkg, rel); !ok {
				t.Errorf("%s (floor %d) imports %s (floor %d): %s (ARCHITECTURE.md)", pkg, floorOf(pkg), rel, floorOf(rel), why)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 15 {
		t.Fatalf("only %d packages checked", checked)
	}
}

// TestImportRulesBite: the rules refuse what ARCHITECTURE.md forbids.
func TestImportRulesBite(t *testing.T) {
	for _, tc := range []struct {
		pkg, imp string
		ok       bool
	}{
		{"ike/ikev2", "sim", false},
		{"ike/ikev2", "render", false},
		{"ipsec", "sim/trace", false},
		{"sim", "render", false},
		{"sim/live", "scenarios", false},
		{"sim/trace", "sim", false},
		{"sim/trace", "ike/ikev2", false},
		{"sim/trace", "ike", true},
		{"render", "sim", false},
		{"render/tui", "ike/ikev1", false},
		{"scenarios", "render", false},
		{"render", "scenarios", false},
		{"sim", "ike/ikev2", true},
		{"render/svg", "render/layout", true},
		{"cmd/ikesim", "render/tui", true},
		{"assets", "ike", false},
	} {
		if ok, _ := allowed(tc.pkg, tc.imp); ok != tc.ok {
			t.Errorf("%s importing %s: allowed %t, want %t", tc.pkg, tc.imp, ok, tc.ok)
		}
	}
	if _, err := os.Stat("ARCHITECTURE.md"); err != nil {
		t.Error(err)
	}
}
