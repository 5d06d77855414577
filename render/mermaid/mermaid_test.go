package mermaid

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
)

type format struct {
	ext   string
	write func(*bytes.Buffer, *render.Diagram, Options) error
	lost  string // the arrow of a lost message
}

var formats = []format{
	{"mmd", func(b *bytes.Buffer, d *render.Diagram, o Options) error { return WriteMermaid(b, d, o) }, "-x"},
	{"puml", func(b *bytes.Buffer, d *render.Diagram, o Options) error { return WritePlantUML(b, d, o) }, " ->x "},
}

// TestGolden writes every scenario in both formats and compares with
// testdata/<name>.<ext>.golden (go test -update rewrites them).
func TestGolden(t *testing.T) {
	for _, name := range rendertest.Scenarios() {
		for _, f := range formats {
			t.Run(name+"."+f.ext, func(t *testing.T) {
				d := rendertest.Diagram(t, name, render.Options{})
				var b bytes.Buffer
				if err := f.write(&b, d, Options{Title: rendertest.Title(t, name)}); err != nil {
					t.Fatal(err)
				}
				rendertest.Golden(t, name+"."+f.ext+".golden", b.Bytes())
			})
		}
	}
}

// TestOneArrowPerMessage checks that each message row becomes exactly one arrow line
// and that the lost IKE_AUTH request of the lossy scenario ends in a cross.
func TestOneArrowPerMessage(t *testing.T) {
	d := rendertest.Diagram(t, rendertest.Lossy, render.Options{})
	msgs := 0
	for _, r := range d.Rows {
		if r.Kind == render.RowMessage {
			msgs++
		}
	}
	for _, f := range formats {
		var b bytes.Buffer
		if err := f.write(&b, d, Options{}); err != nil {
			t.Fatal(err)
		}
		arrows, lost := 0, 0
		for _, l := range strings.Split(b.String(), "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "L") && strings.Contains(l, ":") && !strings.HasPrefix(l, "Note") {
				arrows++
				if strings.Contains(l, f.lost) {
					lost++
					if !strings.Contains(l, "IKE_AUTH request") {
						t.Errorf("%s: lost arrow %q is not the IKE_AUTH request", f.ext, l)
					}
				}
			}
		}
		if arrows != msgs || lost != 1 {
			t.Errorf("%s: %d arrows for %d messages, %d lost (want 1)", f.ext, arrows, msgs, lost)
		}
	}
}

// TestEscape feeds both escapers text that their syntax would otherwise read.
func TestEscape(t *testing.T) {
	tests := []struct {
		in, mermaid, plantuml string
	}{
		{"a;b#c", "a#59;b#35;c", "a;b#c"},
		{"<b>x</b>", "#lt;b#gt;x#lt;/b#gt;", "~<b>x~</b>"},
		{"**bold** //it// --s-- __u__", "**bold** //it// --s-- __u__", "~**bold~** ~//it~// ~--s~-- ~__u~__"},
		{"line\nbreak \\n", "line break \\n", `line break \\n`},
		{"50% \"q\"", "50#37; #quot;q#quot;", `50% ~"q~"`},
	}
	for _, tt := range tests {
		if got := escapeMermaid(tt.in); got != tt.mermaid {
			t.Errorf("escapeMermaid(%q) = %q, want %q", tt.in, got, tt.mermaid)
		}
		if got := escapePlantUML(tt.in); got != tt.plantuml {
			t.Errorf("escapePlantUML(%q) = %q, want %q", tt.in, got, tt.plantuml)
		}
	}
}
