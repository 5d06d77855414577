package tui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/ikesim/ikesim/render"
)

// seqContent is the sequence pane's virtual table: it makes only the cells on screen,
// so a trace of any length opens at once. Row 0 is the lane header; row i+1 is diagram
// row i, for the rows the walkthrough has reached.
type seqContent struct {
	tview.TableContentReadOnly
	u *UI
}

// laneWidth fits the lifelines into the pane, leaving room for the labels.
func (c *seqContent) laneWidth() int {
	_, _, w, _ := c.u.seq.GetInnerRect()
	n := max(len(c.u.diagram.Lanes)-1, 1)
	names := 6
	for _, l := range c.u.diagram.Lanes {
		names = max(names, utf8.RuneCountInString(l.Name)+1)
	}
	lw := (w - 70) / n // leave about 60 columns for the labels
	return max(min(names, 12), min(lw, 14))
}

func (c *seqContent) GetRowCount() int {
	if r := c.u.curRow(); r >= 0 {
		return r + 2
	}
	return 1
}

func (c *seqContent) GetColumnCount() int { return 3 }

func (c *seqContent) GetCell(row, col int) *tview.TableCell {
	d := c.u.diagram
	lw := c.laneWidth()
	if row == 0 {
		switch col {
		case 0:
			return tview.NewTableCell("    time").SetSelectable(false).SetAttributes(tcell.AttrBold)
		case 1:
			return tview.NewTableCell(laneHeader(d, lw)).SetSelectable(false).SetAttributes(tcell.AttrBold)
		}
		return tview.NewTableCell("").SetSelectable(false)
	}
	i := row - 1
	if i >= len(d.Rows) {
		return nil
	}
	r := d.Rows[i]
	switch col {
	case 0:
		return tview.NewTableCell(fmt.Sprintf("%8.3f", r.T.Seconds()))
	case 1:
		return tview.NewTableCell(laneArt(d, r, lw)).SetTextColor(rowColor(r))
	}
	cell := tview.NewTableCell(rowLabel(d, r)).SetTextColor(rowColor(r)).SetExpansion(1)
	if i == c.u.curRow() {
		cell.SetAttributes(tcell.AttrBold | tcell.AttrUnderline)
	}
	return cell
}

func laneHeader(d *render.Diagram, lw int) string {
	width := lw*max(len(d.Lanes)-1, 0) + lw
	line := []rune(strings.Repeat(" ", width))
	next := 0 // the first free column: names never overlap
	for i, l := range d.Lanes {
		name := []rune(l.Name)
		if len(name) > lw-1 {
			name = name[:lw-1]
		}
		start := max(next, min(i*lw-len(name)/2, width-len(name)))
		if start+len(name) > width {
			break
		}
		copy(line[start:], name)
		next = start + len(name) + 1
	}
	return strings.TrimRight(string(line), " ")
}

// laneArt draws one row's lifelines with its arrow or marker.
func laneArt(d *render.Diagram, r render.Row, lw int) string {
	width := lw*max(len(d.Lanes)-1, 0) + 1
	line := []rune(strings.Repeat(" ", width))
	for i := range d.Lanes {
		line[i*lw] = '│'
	}
	switch r.Kind {
	case render.RowPhase:
		for i := range line {
			line[i] = '═'
		}
	case render.RowMessage:
		render.DrawArrow(line, r.From*lw, r.To*lw, r.Lost)
	case render.RowNote:
	default:
		if r.Lane >= 0 {
			line[r.Lane*lw] = marker(r.Kind)
		}
	}
	return string(line)
}

// marker is a row's mark beside its lane: render.LaneMark's, but a timer's is a
// circle, which terminals draw one cell wide.
func marker(k render.RowKind) rune {
	if k == render.RowTimer {
		return '○'
	}
	return render.LaneMark(k)
}

// rowLabel is the text beside a row.
func rowLabel(d *render.Diagram, r render.Row) string {
	s := r.Label
	switch r.Kind {
	case render.RowPhase:
		return "[ " + s + " ]"
	case render.RowMessage:
		for _, t := range r.Tags(false) {
			s += " (" + t + ")"
		}
	case render.RowNote:
		return "— " + s
	default:
		if r.Lane >= 0 {
			s = d.Lanes[r.Lane].Name + ": " + s
		}
	}
	if len(r.Weak) > 0 && r.Kind == render.RowMessage {
		s += " [weak]"
	}
	return s
}

// rowColor picks colours that read on dark and light terminals alike.
func rowColor(r render.Row) tcell.Color {
	switch r.Kind {
	case render.RowPhase:
		return tcell.ColorTeal
	case render.RowMessage:
		switch {
		case r.Lost:
			return tcell.ColorRed
		case strings.HasPrefix(r.Proto, "ike"):
			return tcell.ColorBlue
		case r.Proto == "esp" || r.Proto == "ah":
			return tcell.ColorGreen
		}
		return tcell.ColorDefault
	case render.RowError, render.RowDrop:
		return tcell.ColorRed
	case render.RowState:
		return tcell.ColorPurple
	case render.RowSA:
		return tcell.ColorOlive
	case render.RowNote:
		return tcell.ColorGray
	}
	return tcell.ColorDefault
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:max(0, n-1)]) + "…"
}
