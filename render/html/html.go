// Package html writes a run as one self-contained web page, a walkthrough player: the
// sequence diagram (SVG) on the left with its lane names kept in sight, and on the
// right the selected step in panes that scroll apart (the field tree with what each
// field is for, the bytes, the decrypted payload), the event list with the terminal
// walkthrough's filters, what each node holds as of the step (its SAs, SPD and SAD, as
// the terminal walkthrough's node pane shows it), and the lab's expectations graded as
// of the step. Step, back, play and pause move through the run
// in the terminal walkthrough's steps; the URL's fragment (#step-14) holds the step.
// The diagram's text is drawn as glyph outlines; the view's CSS and JavaScript
// (assets/web) and the data travel in the page: nothing is fetched from anywhere.
//
// It imports render, render/layout, render/svg, sim (the trace's types) and assets; it
// must not import the protocol engines or any UI package.
package html

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"

	"github.com/ikesim/ikesim/assets"
	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/layout"
	"github.com/ikesim/ikesim/render/svg"
	"github.com/ikesim/ikesim/sim/trace"
)

// Options shape the page.
type Options struct {
	layout.Options // Title is the page's title too
	// Trace is the run the diagram was built from: the event list, the nodes' SAs and
	// states, and the links between steps come from it. Without it the page shows the
	// diagram and its messages only.
	Trace *trace.Trace
	// Lab is the scenario's lab, if any.
	Lab *Lab
}

// Lab and Result are the lab pane's: render.Lab, render.LabResult.
type (
	Lab    = render.Lab
	Result = render.LabResult
)

// field is a dissection field as the page's script reads it.
type field struct {
	N string   `json:"n"`
	V string   `json:"v,omitempty"`
	O int      `json:"o"`
	L int      `json:"l"`
	X string   `json:"x,omitempty"` // what the dissector says of it
	K *int     `json:"k,omitempty"` // its entry in the page's explanations (render.Explain)
	E string   `json:"e,omitempty"`
	P string   `json:"p,omitempty"` // decrypted bytes, hex: the children index them
	C []*field `json:"c,omitempty"`
}

// message is what the panes show of a message.
type message struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	Src     string   `json:"src,omitempty"`
	Dst     string   `json:"dst,omitempty"`
	Proto   string   `json:"proto,omitempty"`
	Lost    bool     `json:"lost,omitempty"`
	Retx    bool     `json:"retx,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	Weak    []string `json:"weak,omitempty"`
	Note    string   `json:"note,omitempty"`
	NoteRef string   `json:"noteref,omitempty"`
	Bytes   string   `json:"bytes"`
	Fields  *field   `json:"fields,omitempty"`
}

// step is one step of the walkthrough: a diagram row that is not a phase header.
type step struct {
	Seq   int      `json:"seq"`  // the event's sequence number: the SVG group's data-step
	Kind  string   `json:"kind"` // message, action, state, timer, drop, error, sa, note
	T     string   `json:"t"`
	Lane  string   `json:"lane,omitempty"`
	Label string   `json:"label"`
	Phase string   `json:"phase,omitempty"` // the phase header above it
	Start bool     `json:"start,omitempty"` // a message that opens an exchange
	Msg   *message `json:"msg,omitempty"`
	Lines []string `json:"lines,omitempty"` // what the trace says of a row that is not a message
	Links []link   `json:"links,omitempty"`
}

type link struct {
	Step int    `json:"step"` // 1-based
	Text string `json:"text"`
}

// event is one line of the event list.
type event struct {
	Seq  int    `json:"seq"`
	T    string `json:"t"`
	Node string `json:"node,omitempty"`
	Kind string `json:"kind"`
	Cat  string `json:"cat"` // m a s e x, the event list's filters
	Text string `json:"text"`
}

// node is what the nodes pane shows of one node: its views as they change (the
// terminal walkthrough's node pane, render.NodeViews).
type node struct {
	Node  string            `json:"node"`
	Views []render.NodeView `json:"views"`
}

// expectation is one of the lab's expectations: its verdict changes at the steps in At.
type expectation struct {
	Says  string    `json:"says"`
	Check string    `json:"check"`
	At    []verdict `json:"at"`
}

// verdict holds from step Step (0-based) until the next one.
type verdict struct {
	Step    int    `json:"step"`
	Pass    bool   `json:"pass"`
	Pending bool   `json:"pending,omitempty"`
	Seen    string `json:"seen"`
}

type page struct {
	Title       string               `json:"title"`
	Lanes       []string             `json:"lanes"`
	Explain     []assets.Explanation `json:"explain"`
	Steps       []step               `json:"steps"`
	Events      []event              `json:"events"`
	Nodes       []node               `json:"nodes"`
	Description string               `json:"description,omitempty"`
	Hint        string               `json:"hint,omitempty"`
	Solution    string               `json:"solution,omitempty"`
	Expect      []expectation        `json:"expect"`
	Graded      bool                 `json:"graded"` // the run has expectations to grade
}

// convert turns a dissection into the page's fields; above are the fields over f, from
// the root, for its explanation.
func convert(f *ike.Field, above []*ike.Field) *field {
	if f == nil {
		return nil
	}
	path := append(above[:len(above):len(above)], f)
	out := &field{N: f.Name, V: f.Value, O: f.Offset, L: f.Length, X: f.Explain, E: f.Error}
	if _, i := render.Explain(path); i >= 0 {
		out.K = &i
	}
	if f.Plain != nil {
		out.P = hex.EncodeToString(f.Plain)
	}
	for _, c := range f.Children {
		out.C = append(out.C, convert(c, path))
	}
	return out
}

func seconds(t interface{ Seconds() float64 }) string { return fmt.Sprintf("%.3fs", t.Seconds()) }

// kinds names the row kinds as the page's script and style sheet know them.
var kinds = map[render.RowKind]string{render.RowMessage: "message", render.RowAction: "action", render.RowState: "state",
	render.RowTimer: "timer", render.RowDrop: "drop", render.RowError: "error", render.RowSA: "sa", render.RowNote: "note"}

// Data returns the page's JSON: the title, the lanes, the field explanations, every
// step with what its panes show, and (with a trace) the event list and each node's
// views as they change, and the lab. encoding/json writes <, > and & as \u escapes, so the JSON cannot
// end the script element that holds it.
func Data(d *render.Diagram, o Options) ([]byte, error) {
	ex, err := assets.Fields()
	if err != nil {
		return nil, err
	}
	p := page{Title: o.Title, Explain: ex, Steps: []step{}, Events: []event{}, Nodes: []node{}, Expect: []expectation{}}
	for _, l := range d.Lanes {
		p.Lanes = append(p.Lanes, l.Name)
	}
	steps := d.Steps()
	stepOf := map[int]int{} // row -> step (1-based)
	for i, r := range steps {
		stepOf[r] = i + 1
	}
	starts := map[int]bool{}
	for _, r := range d.ExchangeStarts() {
		starts[r] = true
	}
	phase := ""
	for i, r := range d.Rows {
		if r.Kind == render.RowPhase {
			phase = r.Label
			continue
		}
		s := step{Seq: r.Step, Kind: kinds[r.Kind], T: seconds(r.T), Label: r.Label, Phase: phase, Start: starts[i]}
		phase = ""
		if r.Lane >= 0 && r.Lane < len(d.Lanes) {
			s.Lane = d.Lanes[r.Lane].Name
		}
		if r.Kind == render.RowMessage {
			m := &message{Proto: r.Proto, Lost: r.Lost, Retx: r.Retransmit, Tags: r.Tags(true), Weak: r.Weak, Note: r.Note, NoteRef: r.NoteRef}
			if r.From >= 0 && r.From < len(d.Lanes) {
				m.From = d.Lanes[r.From].Name
			}
			if r.To >= 0 && r.To < len(d.Lanes) {
				m.To = d.Lanes[r.To].Name
			}
			if e := r.Event; e != nil {
				m.Src, m.Dst = e.Src(), e.Dst()
				m.Bytes = hex.EncodeToString(e.Bytes())
				m.Fields = convert(e.Fields(), nil)
			}
			s.Msg = m
		} else {
			s.Lines = render.Details(r)
			if o.Trace != nil {
				for _, l := range d.Links(o.Trace, i) {
					s.Links = append(s.Links, link{Step: stepOf[l.Row], Text: l.Text(d, stepOf[l.Row])})
				}
			}
		}
		p.Steps = append(p.Steps, s)
	}
	if o.Trace != nil {
		for _, e := range o.Trace.Events {
			p.Events = append(p.Events, event{Seq: e.Seq, T: seconds(e.T.Duration()), Node: e.Node, Kind: string(e.Kind),
				Cat: string(render.EventCategory(e)), Text: render.EventText(e)})
		}
		views := render.NodeViews(o.Trace)
		for _, l := range d.Lanes {
			p.Nodes = append(p.Nodes, node{Node: l.Name, Views: append([]render.NodeView{}, views[l.Name]...)})
		}
	}
	if lab := o.Lab; lab != nil {
		p.Description, p.Hint, p.Solution = render.Paragraphs(lab.Description), render.Paragraphs(lab.Hint), render.Paragraphs(lab.Solution)
		if lab.Grade != nil {
			p.Graded = true
			grade(&p, lab.Grade)
		}
	}
	return json.Marshal(p)
}

// maxGrades bounds how often a long run is graded: its expectations are graded at most
// this many times, at evenly spaced steps (and always at the last).
const maxGrades = 2000

// grade grades the expectations as of each step and keeps the steps where a verdict
// changes.
func grade(p *page, g func(upTo int) []Result) {
	n := len(p.Steps)
	every := max(1, (n+maxGrades-1)/maxGrades)
	for i := 0; i < n; i++ {
		if i%every != 0 && i != n-1 {
			continue
		}
		for j, r := range g(p.Steps[i].Seq) {
			if j == len(p.Expect) {
				p.Expect = append(p.Expect, expectation{Says: r.Says, Check: r.Check})
			}
			x := &p.Expect[j]
			if k := len(x.At); k == 0 || x.At[k-1].Pass != r.Pass || x.At[k-1].Pending != r.Pending || x.At[k-1].Seen != r.Seen {
				x.At = append(x.At, verdict{Step: i, Pass: r.Pass, Pending: r.Pending, Seen: r.Seen})
			}
		}
	}
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
	data, err := Data(d, o)
	if err != nil {
		return err
	}
	lo := o.Options
	// The page's heading holds the title, and the step pane each message's note.
	lo.Title, lo.Notes = "", false
	l := layout.New(d, lo)
	var pic, head strings.Builder
	so := svg.Options{Options: lo, Fragment: true, Class: "ikesim-seq"}
	if err := svg.WriteScene(&pic, l.Page(0, len(l.Rows)), so); err != nil {
		return err
	}
	so.Class, so.GlyphPrefix = "ikesim-lanes", "h"
	if err := svg.WriteScene(&head, l.Header(), so); err != nil {
		return err
	}
	title := o.Title
	if title == "" {
		title = "ikesim"
	}
	// One pass over the template: what goes in is never searched for markers.
	r := strings.NewReplacer(
		"{{TITLE}}", html.EscapeString(title),
		"{{CSS}}", string(css),
		"{{HEADH}}", strconv.FormatFloat(l.HeaderH, 'f', 2, 64),
		"{{LANES}}", head.String(),
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

func init() {
	render.Register(render.Format{View: "sequence", Name: "html", Exts: []string{".html", ".htm"},
		Renderer: render.RenderFunc(func(in *render.Input, w io.Writer) ([]string, error) {
			return nil, Write(w, in.Diagram, Options{Options: layout.OptionsOf(in), Trace: in.Trace, Lab: in.Lab})
		})})
}
