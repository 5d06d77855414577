package svg

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
	"github.com/ikesim/ikesim/render/layout"
)

func render1(t testing.TB, name string, o Options) []byte {
	t.Helper()
	d := rendertest.Diagram(t, name, render.Options{})
	o.Title = rendertest.Title(t, name)
	o.Notes = true
	var b bytes.Buffer
	if err := Write(&b, d, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGolden draws every built-in scenario and the lossy one, and compares with
// testdata/<name>.svg.golden (go test -update rewrites them).
func TestGolden(t *testing.T) {
	for _, name := range rendertest.Scenarios() {
		t.Run(name, func(t *testing.T) {
			rendertest.Golden(t, name+".svg.golden", render1(t, name, Options{}))
		})
	}
}

// svgElement is what the XML check reads of each element.
type svgElement struct {
	name  string
	attrs map[string]string
	text  string
}

// parse decodes the whole document as XML and returns its elements in order.
func parse(t *testing.T, doc []byte) []svgElement {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var els []svgElement
	var stack []int
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not valid XML: %v", err)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			el := svgElement{name: v.Name.Local, attrs: map[string]string{}}
			for _, a := range v.Attr {
				el.attrs[a.Name.Local] = a.Value
			}
			els = append(els, el)
			stack = append(stack, len(els)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				els[stack[len(stack)-1]].text += string(v)
			}
		}
	}
	return els
}

// TestValidXMLWithClickableMessages parses each SVG as XML and checks that every
// message of the diagram is a group with its id, data-step and a <title> holding its
// summary, and that the scenario's name survives escaping.
func TestValidXMLWithClickableMessages(t *testing.T) {
	for _, name := range rendertest.Scenarios() {
		t.Run(name, func(t *testing.T) {
			for _, embed := range []bool{false, true} {
				doc := render1(t, name, Options{EmbedFont: embed})
				els := parse(t, doc)
				if els[0].name != "svg" {
					t.Fatalf("root element is %s", els[0].name)
				}
				if els[1].name != "title" || els[1].text != rendertest.Title(t, name) {
					t.Errorf("document title is %q, want %q", els[1].text, rendertest.Title(t, name))
				}
				if has := strings.Contains(string(doc), "@font-face"); has != embed {
					t.Errorf("EmbedFont %v but @font-face present: %v", embed, has)
				}
				groups := map[string]int{}
				for i, el := range els {
					if el.name == "g" && el.attrs["class"] == "msg" {
						groups[el.attrs["id"]] = i
					}
				}
				d := rendertest.Diagram(t, name, render.Options{})
				n := 0
				for _, r := range d.Rows {
					if r.Kind != render.RowMessage {
						continue
					}
					n++
					id := "m" + itoa(r.Step)
					i, ok := groups[id]
					if !ok {
						t.Fatalf("message step %d has no group %s", r.Step, id)
					}
					if els[i].attrs["data-step"] != itoa(r.Step) {
						t.Errorf("%s: data-step %q", id, els[i].attrs["data-step"])
					}
					if els[i+1].name != "title" || els[i+1].text != r.Label {
						t.Errorf("%s: title %q, want %q", id, els[i+1].text, r.Label)
					}
				}
				if n == 0 || n != len(groups) {
					t.Errorf("%d message rows, %d message groups", n, len(groups))
				}
			}
		})
	}
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	var b []byte
	if i == 0 {
		return "0"
	}
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// TestTextFitsBoxes checks on the layout that each action box is as wide as its
// widest text line, measured with the embedded font, plus padding.
func TestTextFitsBoxes(t *testing.T) {
	d := rendertest.Diagram(t, "ikev2-ping", render.Options{})
	l := layout.New(d, layout.Options{Notes: true})
	boxes := 0
	for _, p := range l.Rows {
		if p.G.Class != "action" {
			continue
		}
		var box *layout.Rect
		for _, it := range p.G.Items {
			switch v := it.(type) {
			case *layout.Rect:
				if v.W > 20 && !v.Hit {
					box = v
				}
			case *layout.Text:
				if box == nil || v.X < box.X {
					continue // the time
				}
				if v.Left() < box.X || v.Left()+layout.Width(v.S, v.Size, v.Bold) > box.X+box.W+0.01 {
					t.Errorf("text %q [%.1f, %.1f] overflows its box [%.1f, %.1f]", v.S, v.Left(), v.Left()+v.W, box.X, box.X+box.W)
				}
			}
		}
		boxes++
	}
	if boxes < 10 {
		t.Errorf("only %d action boxes", boxes)
	}
}

// TestEscaping feeds a label with every character XML cares about.
func TestEscaping(t *testing.T) {
	d := &render.Diagram{Lanes: []render.Lane{{Name: "a<b"}, {Name: "c&d"}}, Rows: []render.Row{
		{Kind: render.RowMessage, Step: 1, From: 0, To: 1, Lane: 0, Label: "x <y> & \"z\" 'w' \x01 \xff </svg>"},
	}}
	var b bytes.Buffer
	if err := Write(&b, d, Options{Options: layout.Options{Title: "]]> <!--"}}); err != nil {
		t.Fatal(err)
	}
	els := parse(t, b.Bytes())
	found := false
	for _, el := range els {
		if el.name == "title" && strings.HasPrefix(el.text, "x <y> & \"z\" 'w' ") {
			found = true
		}
	}
	if !found {
		t.Errorf("the message title did not survive escaping:\n%s", b.String())
	}
}

// BenchmarkSVG10k renders the SVG of a 10,000-message trace, from the trace: the model,
// the layout and the SVG text. BenchmarkText10k is the baseline: the text diagram of
// the same trace, the simplest front end of the same model.
func BenchmarkSVG10k(b *testing.B) {
	tr := rendertest.Big(b, 10000)
	b.ResetTimer()
	for b.Loop() {
		d := render.Build(tr, render.Options{})
		if err := Write(io.Discard, d, Options{Options: layout.Options{Title: "10k", Notes: true}}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkText10k(b *testing.B) {
	tr := rendertest.Big(b, 10000)
	b.ResetTimer()
	for b.Loop() {
		d := render.Build(tr, render.Options{})
		if err := render.WriteText(io.Discard, d, render.TextOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
