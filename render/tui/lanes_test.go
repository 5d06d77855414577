package tui

import (
	"slices"
	"testing"

	"github.com/ikesim/ikesim/render"
)

// TestLanesPickedAndFolded: the walkthrough draws the lanes its configuration picks,
// and a folded node in the lane it is folded into.
func TestLanesPickedAndFolded(t *testing.T) {
	tr := pingTrace(t)
	lanes := func(o render.Options) []string {
		var out []string
		for _, l := range New(Config{Title: "lanes", Trace: tr, Lanes: o}).diagram.Lanes {
			out = append(out, l.Name)
		}
		return out
	}
	if got := lanes(render.Options{Nodes: []string{"gw-a", "gw-b"}}); !slices.Equal(got, []string{"gw-a", "gw-b"}) {
		t.Errorf("picked lanes %v, want [gw-a gw-b]", got)
	}
	got := lanes(render.Options{Fold: map[string]string{"gw-a": "gateways", "gw-b": "gateways"}})
	if !slices.Contains(got, "gateways") || slices.Contains(got, "gw-a") || slices.Contains(got, "gw-b") {
		t.Errorf("folded lanes %v, want gw-a and gw-b in one lane, gateways", got)
	}
}
