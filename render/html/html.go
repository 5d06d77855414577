// Package html writes a sequence diagram as one self-contained web page: the SVG, the
// Go fonts, the view's CSS and JavaScript (assets/web), and every message's bytes and
// dissection as JSON. Clicking a message shows its field tree, what each field is for
// (assets/explain) and its bytes; nothing is fetched from anywhere.
//
// It imports render, render/layout, render/svg and assets; it must not import the
// protocol packages or any UI package.
package html

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/ikesim/ikesim/assets"
	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/layout"
	"github.com/ikesim/ikesim/render/svg"
)

// Options shape the page.
type Options struct {
	layout.Options // Title is the page's title too
}

// field is a dissection field as the page's script reads it.
type field struct {
	N string   `json:"n"`
	V string   `json:"v,omitempty"`
	O int      `json:"o"`
	L int      `json:"l"`
	X string   `json:"x,omitempty"`
	E string   `json:"e,omitempty"`
	P string   `json:"p,omitempty"` // decrypted bytes, hex: the children index them
	C []*field `json:"c,omitempty"`
}

// message is one message row with what the panel shows of it.
type message struct {
	Step    int      `json:"step"`
	T       string   `json:"t"`
	From    string   `json:"from"`
	To      string   `json:"to"`
	Src     string   `json:"src,omitempty"`
	Dst     string   `json:"dst,omitempty"`
	Proto   string   `json:"proto,omitempty"`
	Label   string   `json:"label"`
	Lost    bool     `json:"lost,omitempty"`
	Retx    bool     `json:"retx,omitempty"`
	Weak    []string `json:"weak,omitempty"`
	Note    string   `json:"note,omitempty"`
	NoteRef string   `json:"noteref,omitempty"`
	Bytes   string   `json:"bytes"`
	Fields  *field   `json:"fields,omitempty"`
}

type page struct {
	Title    string               `json:"title"`
	Explain  []assets.Explanation `json:"explain"`
	Messages []message            `json:"messages"`
}

func convert(f *ike.Field) *field {
	if f == nil {
		return nil
	}
	out := &field{N: f.Name, V: f.Value, O: f.Offset, L: f.Length, X: f.Explain, E: f.Error}
	if f.Plain != nil {
		out.P = hex.EncodeToString(f.Plain)
	}
	for _, c := range f.Children {
		out.C = append(out.C, convert(c))
	}
	return out
}

// Data returns the page's JSON: the title, the field explanations and every message
// of the diagram with its bytes and dissection. encoding/json writes <, > and & as
// \u escapes, so the JSON cannot end the script element that holds it.
func Data(d *render.Diagram, title string) ([]byte, error) {
	ex, err := assets.Fields()
	if err != nil {
		return nil, err
	}
	p := page{Title: title, Explain: ex, Messages: []message{}}
	for _, r := range d.Rows {
		if r.Kind != render.RowMessage {
			continue
		}
		m := message{Step: r.Step, T: fmt.Sprintf("%.3fs", r.T.Seconds()), Label: r.Label, Proto: r.Proto,
			Lost: r.Lost, Retx: r.Retransmit, Weak: r.Weak, Note: r.Note, NoteRef: r.NoteRef}
		if r.From >= 0 && r.From < len(d.Lanes) {
			m.From = d.Lanes[r.From].Name
		}
		if r.To >= 0 && r.To < len(d.Lanes) {
			m.To = d.Lanes[r.To].Name
		}
		if e := r.Event; e != nil {
			m.Src, m.Dst = e.Src, e.Dst
			m.Bytes = hex.EncodeToString(e.Bytes)
			m.Fields = convert(e.Fields())
		}
		p.Messages = append(p.Messages, m)
	}
	return json.Marshal(p)
}

// Write writes diagram d as one HTML page.
func Write(w io.Writer, d *render.Diagram, o Options) error {
	tmpl, err := assets.Web("view.html")
	if err != nil {
		return err
	}
	css, err := assets.Web("view.css")
	if err != nil {
		return err
	}
	js, err := assets.Web("view.js")
	if err != nil {
		return err
	}
	data, err := Data(d, o.Title)
	if err != nil {
		return err
	}
	var pic strings.Builder
	if err := svg.Write(&pic, d, svg.Options{Options: o.Options, Fragment: true, Class: "ikesim-seq"}); err != nil {
		return err
	}
	title := o.Title
	if title == "" {
		title = "ikesim"
	}
	// One pass over the template: what goes in is never searched for markers.
	r := strings.NewReplacer(
		"{{TITLE}}", html.EscapeString(title),
		"{{FONTS}}", svg.FontFaces(),
		"{{CSS}}", string(css),
		"{{SVG}}", pic.String(),
		"{{DATA}}", string(data),
		"{{JS}}", string(js),
	)
	bw := bufio.NewWriter(w)
	if _, err := r.WriteString(bw, string(tmpl)); err != nil {
		return err
	}
	return bw.Flush()
}
