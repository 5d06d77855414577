package render

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// TextOptions shape the text diagram.
type TextOptions struct {
	LaneWidth int // columns between lifelines (0: fitted to the names)
}

// WriteText draws the diagram with box-drawing characters: one line per row, the time,
// the lifelines with the arrow or marker, and the label.
func WriteText(w io.Writer, d *Diagram, o TextOptions) error {
	lw := o.LaneWidth
	if lw == 0 {
		lw = 12
		for _, l := range d.Lanes {
			lw = max(lw, utf8.RuneCountInString(l.Name)+3)
		}
	}
	width := lw*max(len(d.Lanes)-1, 0) + 1
	col := func(i int) int { return i * lw }
	var b strings.Builder
	// Header: lane names centred on their lifelines.
	head := []rune(strings.Repeat(" ", width+lw))
	next := 0 // names never overlap
	for i, l := range d.Lanes {
		name := []rune(l.Name)
		start := max(next, col(i)-len(name)/2)
		for j, r := range name {
			if start+j < len(head) {
				head[start+j] = r
			}
		}
		next = start + len(name) + 1
	}
	fmt.Fprintf(&b, "%9s  %s\n", "time", strings.TrimRight(string(head), " "))
	for _, r := range d.Rows {
		line := []rune(strings.Repeat(" ", width))
		for i := range d.Lanes {
			line[col(i)] = '│'
		}
		label := r.Label
		switch r.Kind {
		case RowPhase:
			for i := range line {
				line[i] = '═'
			}
			label = "[ " + r.Label + " ]"
		case RowMessage:
			DrawArrow(line, col(r.From), col(r.To), r.Lost)
			for _, t := range r.Tags(false) {
				label += "  (" + t + ")"
			}
		case RowNote:
			label = "— " + label
		default: // a row beside one lane
			line[col(r.Lane)] = LaneMark(r.Kind)
			if r.Kind == RowError {
				label = "ERROR " + label
			}
			label = d.Lanes[r.Lane].Name + ": " + label
		}
		if len(r.Weak) > 0 && r.Kind != RowAction {
			label += "  [weak: " + strings.Join(r.Weak, ", ") + "]"
		}
		fmt.Fprintf(&b, "%8.3fs  %s  %s\n", r.T.Seconds(), string(line), label)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func init() {
	Register(Format{View: "sequence", Name: "text", Exts: []string{".txt"},
		Renderer: RenderFunc(func(in *Input, w io.Writer) ([]string, error) {
			if _, err := fmt.Fprintf(w, "%s\n\n", in.Title); err != nil {
				return nil, err
			}
			return nil, WriteText(w, in.Diagram, TextOptions{})
		})})
}

// DrawArrow draws a message on a row of lane art (the text diagram's, the terminal
// walkthrough's): an arrow from column a to column z, crossed out in the middle when
// the message was lost.
func DrawArrow(line []rune, a, z int, lost bool) {
	lo, hi := min(a, z), max(a, z)
	for i := lo + 1; i < hi; i++ {
		line[i] = '─'
	}
	switch {
	case a == z: // a node that sends to itself (both ends of a loopback capture)
		line[a] = '↻'
	case a < z:
		line[a], line[z-1] = '├', '▶'
	default:
		line[a], line[z+1] = '┤', '◀'
	}
	if lost {
		line[(lo+hi)/2] = '✗'
	}
}

// LaneMark is the mark of a row beside one lane in lane art: an action, a state
// change, a timer, a drop, an error or an SA.
func LaneMark(k RowKind) rune {
	switch k {
	case RowAction:
		return '•'
	case RowState:
		return '◆'
	case RowTimer:
		return '⏱'
	case RowDrop:
		return '✗'
	case RowError:
		return '!'
	case RowSA:
		return '■'
	}
	return '·'
}
