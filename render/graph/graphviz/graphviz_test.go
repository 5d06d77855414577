package graphviz

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"testing"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/graph"
	"github.com/ikesim/ikesim/render/internal/rendertest"
)

// TestSVGHasIDsAndTooltips lays out the topology and the state machines of ikev2-nat
// and checks that the SVG parses and keeps the ids and classes the DOT gave.
func TestSVGHasIDsAndTooltips(t *testing.T) {
	d := rendertest.Diagram(t, "ikev2-nat", render.Options{})
	states, err := graph.StatesDOT(d, "gw-a")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dot     []byte
		id, cls string
	}{
		{graph.TopologyDOT(render.TopologyOf(rendertest.Trace(t, "ikev2-nat"), "ikev2-nat")), "node-nat", "node node-nat"},
		{states, "state-IKE SA-ESTABLISHED", "node state seen"},
	} {
		svg, err := SVG(context.Background(), tc.dot)
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(bytes.NewReader(svg))
		dec.Strict = false // the DOCTYPE names a DTD
		found := ""
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("the SVG is not XML: %v", err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				var id, class string
				for _, a := range se.Attr {
					switch a.Name.Local {
					case "id":
						id = a.Value
					case "class":
						class = a.Value
					}
				}
				if id == tc.id {
					found = class
				}
			}
		}
		if found != tc.cls {
			t.Errorf("element %q has class %q, want %q", tc.id, found, tc.cls)
		}
	}
}

func TestBadDOT(t *testing.T) {
	if _, err := SVG(context.Background(), []byte("digraph {")); err == nil {
		t.Errorf("broken DOT laid out without an error")
	}
}
