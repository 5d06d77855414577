package render_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/render"
	_ "github.com/ikesim/ikesim/render/all" // every format registers itself
	"github.com/ikesim/ikesim/sim/trace"
)

// TestRegistry: every format registers itself once, for the views it draws, and a
// lookup that fails says what there is.
func TestRegistry(t *testing.T) {
	want := map[string][]string{
		"sequence": {"html", "mermaid", "plantuml", "png", "svg", "text"},
		"topology": {"dot", "svg"},
		"states":   {"dot", "svg"},
	}
	for view, names := range want {
		if got := render.FormatsOf(view); !slices.Equal(got, names) {
			t.Errorf("view %s draws as %v, want %v", view, got, names)
		}
	}
	for ext, name := range map[string]string{".svg": "svg", ".PNG": "png", ".htm": "html", ".mmd": "mermaid", ".puml": "plantuml", ".txt": "text", ".gv": "dot", ".pdf": ""} {
		if got := render.FormatOfExt(ext); got != name {
			t.Errorf("extension %s chooses %q, want %q", ext, got, name)
		}
	}
	if got, want := render.Names(), []string{"dot", "html", "mermaid", "plantuml", "png", "svg", "text"}; !slices.Equal(got, want) {
		t.Errorf("the formats are %v, want %v", got, want)
	}
	if got, want := render.Exts(), []string{".dot", ".gv", ".htm", ".html", ".mermaid", ".mmd", ".plantuml", ".png", ".puml", ".svg", ".txt"}; !slices.Equal(got, want) {
		t.Errorf("the extensions are %v, want %v", got, want)
	}
	for _, tc := range []struct{ view, format, err string }{
		{"sequence", "dot", "draws as html, mermaid, plantuml, png, svg or text, not dot"},
		{"topology", "png", "draws as dot or svg, not png"},
		{"seqeunce", "svg", "unknown view"},
		{"sequence", "pdf", "unknown format"},
	} {
		if _, err := render.Lookup(tc.view, tc.format); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Lookup(%s, %s): %v, want %q", tc.view, tc.format, err, tc.err)
		}
	}
	f, err := render.Lookup("sequence", "text")
	if err != nil {
		t.Fatal(err)
	}
	tr := &trace.Trace{}
	tr.Emit(&trace.Event{Kind: trace.KindInfo, Text: "hello"})
	var b bytes.Buffer
	if _, err := f.Render(&render.Input{Diagram: render.Build(tr, render.Options{}), Title: "t"}, &b); err != nil || !strings.Contains(b.String(), "hello") {
		t.Errorf("the text format wrote %q, %v", b.String(), err)
	}
}
