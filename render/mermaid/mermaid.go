// Package mermaid writes a sequence diagram as text for documentation in Markdown: a
// Mermaid sequenceDiagram or a PlantUML sequence diagram. Both draw the model: lanes
// become participants, messages arrows (a lost one ends in a cross), actions, states,
// timers and drops notes beside their lane, phases separators, and SA spans
// activations.
//
// It imports render only; it must not import the protocol packages or any UI package.
package mermaid

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/ikesim/ikesim/render"
)

// Options shape the text.
type Options struct {
	Title string
}

// dialect is what differs between Mermaid and PlantUML.
type dialect struct {
	begin, end  string
	participant func(id, name string) string
	title       func(string) string
	arrow       func(r render.Row) string // "->>", "-x", ...
	message     func(from, to, arrow, label string) string
	note        func(lane, text string) string
	noteAcross  func(first, last, text string) string
	phase       func(first, last, text string) string
	activate    string
	deactivate  string
	escape      func(string) string
}

// WriteMermaid writes diagram d as a Mermaid sequenceDiagram.
func WriteMermaid(w io.Writer, d *render.Diagram, o Options) error {
	return write(w, d, o, mermaid)
}

// WritePlantUML writes diagram d as a PlantUML sequence diagram.
func WritePlantUML(w io.Writer, d *render.Diagram, o Options) error {
	return write(w, d, o, plantUML)
}

var mermaid = dialect{
	begin:       "sequenceDiagram",
	participant: func(id, name string) string { return "    participant " + id + " as " + name },
	title:       func(t string) string { return "    title " + t },
	arrow: func(r render.Row) string {
		switch {
		case r.Lost:
			return "-x"
		case r.Retransmit:
			return "-->>"
		}
		return "->>"
	},
	message:    func(from, to, arrow, label string) string { return "    " + from + arrow + to + ": " + label },
	note:       func(lane, text string) string { return "    Note right of " + lane + ": " + text },
	noteAcross: func(first, last, text string) string { return "    Note over " + first + "," + last + ": " + text },
	phase: func(first, last, text string) string {
		return "    Note over " + first + "," + last + ": == " + text + " =="
	},
	activate:   "    activate ",
	deactivate: "    deactivate ",
	escape:     escapeMermaid,
}

var plantUML = dialect{
	begin:       "@startuml",
	end:         "@enduml",
	participant: func(id, name string) string { return `participant "` + name + `" as ` + id },
	title:       func(t string) string { return "title " + t },
	arrow: func(r render.Row) string {
		switch {
		case r.Lost:
			return "->x"
		case r.Retransmit:
			return "-->"
		}
		return "->"
	},
	message:    func(from, to, arrow, label string) string { return from + " " + arrow + " " + to + " : " + label },
	note:       func(lane, text string) string { return "note right of " + lane + " : " + text },
	noteAcross: func(first, last, text string) string { return "note over " + first + ", " + last + " : " + text },
	phase:      func(_, _, text string) string { return "== " + text + " ==" },
	activate:   "activate ",
	deactivate: "deactivate ",
	escape:     escapePlantUML,
}

// escapeMermaid makes s safe inside a Mermaid label: characters Mermaid reads as
// syntax or markup become entity codes, line breaks become spaces.
func escapeMermaid(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '#':
			b.WriteString("#35;")
		case ';':
			b.WriteString("#59;")
		case '<':
			b.WriteString("#lt;")
		case '>':
			b.WriteString("#gt;")
		case '&':
			b.WriteString("#amp;")
		case '"':
			b.WriteString("#quot;")
		case '%':
			b.WriteString("#37;")
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		default:
			if r < 0x20 {
				continue
			}
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// escapePlantUML makes s safe inside a PlantUML label: the Creole escape character ~
// goes before markup (<, **, //, "", --, __, ==, ~~), a backslash is doubled so that
// \n stays literal, and line breaks become spaces.
func escapePlantUML(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		next := rune(0)
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '<' || r == '~' || r == '"':
			b.WriteRune('~')
			b.WriteRune(r)
		case r == next && strings.ContainsRune("*/-_=", r):
			b.WriteRune('~')
			b.WriteRune(r)
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20:
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

func write(w io.Writer, d *render.Diagram, o Options, x dialect) error {
	bw := bufio.NewWriter(w)
	line := func(s string) { bw.WriteString(s); bw.WriteByte('\n') }
	line(x.begin)
	if o.Title != "" {
		line(x.title(x.escape(o.Title)))
	}
	id := func(i int) string { return fmt.Sprintf("L%d", i) }
	for i, l := range d.Lanes {
		line(x.participant(id(i), x.escape(l.Name)))
	}
	first, last := id(0), id(max(len(d.Lanes)-1, 0))
	starts := map[int][]int{} // row -> lanes whose SA span starts there
	ends := map[int][]int{}
	for _, s := range d.Spans {
		if s.Lane < 0 {
			continue
		}
		starts[s.Start] = append(starts[s.Start], s.Lane)
		if s.End >= 0 {
			ends[s.End] = append(ends[s.End], s.Lane)
		}
	}
	for i, r := range d.Rows {
		for _, l := range ends[i] {
			line(x.deactivate + id(l))
		}
		label := r.Label
		switch r.Kind {
		case render.RowPhase:
			if len(d.Lanes) > 0 {
				line(x.phase(first, last, x.escape(label)))
			}
		case render.RowMessage:
			tags := r.Tags(false)
			if len(tags) > 0 {
				label += " (" + strings.Join(tags, ", ") + ")"
			}
			line(x.message(id(r.From), id(r.To), x.arrow(r), x.escape(label)))
		case render.RowNote:
			if len(d.Lanes) > 0 {
				line(x.noteAcross(first, last, x.escape(label)))
			}
		default:
			if r.Lane < 0 {
				continue
			}
			prefix := map[render.RowKind]string{render.RowState: "state ", render.RowTimer: "", render.RowDrop: "", render.RowError: "ERROR ", render.RowSA: ""}[r.Kind]
			line(x.note(id(r.Lane), x.escape(prefix+label)))
		}
		for _, l := range starts[i] {
			line(x.activate + id(l))
		}
	}
	if x.end != "" {
		line(x.end)
	}
	return bw.Flush()
}

func init() {
	render.Register(render.Format{View: "sequence", Name: "mermaid", Exts: []string{".mmd", ".mermaid"},
		Renderer: render.RenderFunc(func(in *render.Input, w io.Writer) ([]string, error) {
			return nil, WriteMermaid(w, in.Diagram, Options{Title: in.Title})
		})})
	render.Register(render.Format{View: "sequence", Name: "plantuml", Exts: []string{".puml", ".plantuml"},
		Renderer: render.RenderFunc(func(in *render.Input, w io.Writer) ([]string, error) {
			return nil, WritePlantUML(w, in.Diagram, Options{Title: in.Title})
		})})
}
