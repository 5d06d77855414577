package layout

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/render"
)

// Options shape the drawing.
type Options struct {
	Title string // drawn above the lanes
	Notes bool   // draw each row's Note in a column right of the lanes
	// Legend says in the header what the bars beside the lifelines are: the lifetimes
	// of IKE SAs and of Child SAs. It is drawn when the diagram has any.
	Legend bool
	// Compact gives scenario notes and SA rows no room: a figure shows the message flow,
	// and the SA bars still start and end where those rows are.
	Compact bool
}

// Figure is the layout of a figure for a book or an RFC-style document: no notes, a
// legend for the SA bars, and only what the messages need.
func Figure(title string) Options { return Options{Title: title, Legend: true, Compact: true} }

// OptionsOf are the layout options a renderer's input asks for.
func OptionsOf(in *render.Input) Options {
	if in.Figure {
		return Figure(in.Title)
	}
	return Options{Title: in.Title, Notes: in.Notes}
}

// Sizes in pixels.
const (
	textSize   = 12.0
	smallSize  = 10.5
	headSize   = 13.0
	titleSize  = 16.0
	noteSize   = 11.0
	lineH      = 15.5
	smallLineH = 13.5
	minGap     = 150.0 // between lifelines
	maxGap     = 460.0 // a wider label wraps
	maxAction  = 340.0 // the widest action box
	notesW     = 300.0
	arrowLen   = 9.0
	boxPad     = 6.0
)

// Colours.
const (
	colText    = "#1a202c"
	colMuted   = "#4a5568"
	colIKE     = "#1f4e8c"
	colESP     = "#276749"
	colPlain   = "#4a5568"
	colRetx    = "#c05621"
	colLost    = "#c53030"
	colWeak    = "#9b2c2c"
	colLane    = "#a0aec0"
	colPhase   = "#2c5282"
	colState   = "#6b46c1"
	colChildSA = "#2f855a"
)

// Layout is a diagram placed on the page: where each lane and row goes. Page turns
// any run of rows into a scene.
type Layout struct {
	W       float64 // page width
	HeaderH float64 // the title and the lane boxes above the first row
	LaneX   []float64
	Rows    []Placed // one per diagram row, in order

	header []Shape
	spans  []bar
	timeW  float64
}

// Placed is one row on the page, in body coordinates (0 is the top of the first row).
type Placed struct {
	Y, H   float64
	Bottom float64 // the lowest point the row draws: its note may reach below Y+H
	G      *Group  // the row's shapes, relative to the row's top
}

// bar is an SA's lifetime beside a lifeline.
type bar struct {
	x          float64
	start, end int // rows; end -1: to the end
	child      bool
	label      string
}

// New places diagram d.
func New(d *render.Diagram, o Options) *Layout {
	l := &Layout{}
	l.timeW = Width("0000.000s", smallSize, false) + 14
	n := len(d.Lanes)
	nameW := make([]float64, n)
	for i, ln := range d.Lanes {
		nameW[i] = Width(ln.Name, headSize, true) + 2*boxPad + 8
	}
	gaps := make([]float64, max(n-1, 0))
	for i := range gaps {
		gaps[i] = max(minGap, (nameW[i]+nameW[i+1])/2+16)
	}
	lastRoom := 0.0
	if n > 0 {
		lastRoom = nameW[n-1]/2 + 8
	}
	for _, r := range d.Rows {
		switch r.Kind {
		case render.RowMessage:
			a, b := min(r.From, r.To), max(r.From, r.To)
			if a == b || a < 0 {
				continue
			}
			head, sum := splitLabel(r)
			need := min(max(Width(head, textSize, true), Width(sum, textSize, false))+28, maxGap*float64(b-a))
			have := 0.0
			for i := a; i < b; i++ {
				have += gaps[i]
			}
			if have < need {
				for i := a; i < b; i++ {
					gaps[i] += (need - have) / float64(b-a)
				}
			}
		case render.RowAction, render.RowState, render.RowSA, render.RowDrop, render.RowError, render.RowTimer:
			if r.Lane < 0 || o.Compact && r.Kind == render.RowSA {
				continue
			}
			need := min(Width(sideText(d, r), textSize, false)+2*boxPad+24, maxAction)
			if r.Lane < n-1 {
				gaps[r.Lane] = max(gaps[r.Lane], need)
			} else {
				lastRoom = max(lastRoom, need)
			}
		}
	}
	l.LaneX = make([]float64, n)
	x := l.timeW + 16
	if n > 0 {
		x += nameW[0] / 2
	}
	for i := range n {
		l.LaneX[i] = x
		if i < n-1 {
			x += gaps[i]
		}
	}
	lanesRight := x + lastRoom
	notesX := lanesRight + 24
	hasNotes := false
	if o.Notes {
		for _, r := range d.Rows {
			if r.Note != "" {
				hasNotes = true
				break
			}
		}
	}
	l.W = lanesRight + 16
	if hasNotes {
		l.W = notesX + notesW + 16
	}

	// Header: the title and the legend, then a box with each lane's name.
	y := 12.0
	titleW := 0.0
	if o.Title != "" {
		titleW = Width(o.Title, titleSize, true)
		l.header = append(l.header, &Text{X: 16, Y: y + Ascent(titleSize), S: o.Title, Size: titleSize, Bold: true, Fill: colText, W: titleW})
	}
	if o.Legend && len(d.Spans) > 0 {
		lg := legend()
		w := legendWidth()
		x := l.W - 16 - w
		ly := y
		if o.Title != "" && 16+titleW+32 > x {
			ly = y + titleSize*1.3 + 6 // no room beside the title: a line of its own
			y = ly
		}
		if x < 16 {
			x = 16
		}
		l.header = append(l.header, &Group{Class: "legend", Y: ly, Items: lg(x)})
		if o.Title == "" {
			y += titleSize*1.3 + 10
		}
	}
	if o.Title != "" {
		y += titleSize*1.3 + 10
	}
	for i, ln := range d.Lanes {
		w := nameW[i]
		l.header = append(l.header,
			&Rect{X: l.LaneX[i] - w/2, Y: y, W: w, H: 28, R: 4, Style: Style{Fill: "#edf2f7", Stroke: "#2d3748", Width: 1.2}},
			&Text{X: l.LaneX[i], Y: y + 14 + Ascent(headSize)/2 - 1, S: ln.Name, Size: headSize, Bold: true, Anchor: Middle, Fill: colText, W: Width(ln.Name, headSize, true)})
	}
	l.HeaderH = y + 28 + 12

	// Rows, one under the other; notes in their own column, never overlapping.
	p := &placer{l: l, d: d, lanesRight: lanesRight, compact: o.Compact}
	cy, noteY := 0.0, 0.0
	l.Rows = make([]Placed, len(d.Rows))
	for i := range d.Rows {
		r := &d.Rows[i]
		g, h := p.row(r)
		pl := Placed{Y: cy, H: h, Bottom: cy + h, G: g}
		if hasNotes && r.Note != "" {
			ny := max(cy, noteY)
			nh := p.note(g, r, notesX, ny-cy)
			noteY = ny + nh + 6
			pl.Bottom = max(pl.Bottom, noteY)
		}
		l.Rows[i] = pl
		cy += h
	}
	l.placeSpans(d)
	return l
}

// The legend's entries: a bar as the diagram draws it and what it stands for.
var legendEntries = []struct {
	col, text string
}{{colIKE, "IKE SA lifetime"}, {colChildSA, "Child SA lifetime"}}

// legendWidth is the legend's width: each entry's bar and text, and the gaps.
func legendWidth() float64 {
	w := 0.0
	for i, e := range legendEntries {
		if i > 0 {
			w += 18
		}
		w += 5 + 6 + Width(e.text, smallSize, false)
	}
	return w
}

// legend draws the legend from x, its top at 0 (the group's Y places it).
func legend() func(x float64) []Shape {
	return func(x float64) []Shape {
		var out []Shape
		for _, e := range legendEntries {
			out = append(out,
				&Rect{X: x, Y: 2, W: 5, H: 14, R: 1.5, Style: Style{Fill: e.col, FillOpacity: 0.55}},
				&Text{X: x + 11, Y: 2 + 7 + Ascent(smallSize)/2 - 1, S: e.text, Size: smallSize, Fill: colMuted, W: Width(e.text, smallSize, false)})
			x += 5 + 6 + Width(e.text, smallSize, false) + 18
		}
		return out
	}
}

// placeSpans gives every SA span a track beside its lifeline, left of it, so that
// spans alive at the same time sit side by side.
func (l *Layout) placeSpans(d *render.Diagram) {
	tracks := map[int][]int{} // lane -> end row of the span on each track
	idx := make([]int, len(d.Spans))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return d.Spans[idx[a]].Start < d.Spans[idx[b]].Start })
	for _, i := range idx {
		s := d.Spans[i]
		if s.Lane < 0 || s.Lane >= len(l.LaneX) || s.Start < 0 || s.Start >= len(l.Rows) {
			continue
		}
		ts := tracks[s.Lane]
		t := 0
		for t < len(ts) && (ts[t] < 0 || ts[t] >= s.Start) {
			t++
		}
		if t == len(ts) {
			ts = append(ts, 0)
		}
		ts[t] = s.End
		tracks[s.Lane] = ts
		l.spans = append(l.spans, bar{x: l.LaneX[s.Lane] - 8 - float64(t)*6, start: s.Start, end: s.End, child: s.Child, label: s.Label})
	}
}

// Pages splits the rows into pages whose body is at most maxH high (a row taller than
// that gets a page of its own). It returns [from, to) row ranges.
func (l *Layout) Pages(maxH float64) [][2]int {
	var pages [][2]int
	from := 0
	for i := range l.Rows {
		if i > from && l.Rows[i].Bottom-l.Rows[from].Y > maxH {
			pages = append(pages, [2]int{from, i})
			from = i
		}
	}
	if from < len(l.Rows) || len(pages) == 0 {
		pages = append(pages, [2]int{from, len(l.Rows)})
	}
	return pages
}

// Header draws the title and the lane boxes alone, on the page's background, as tall
// as the header of every page: a web view keeps it in sight above the rows.
func (l *Layout) Header() *Scene {
	s := &Scene{W: l.W, H: l.HeaderH}
	s.Items = append(s.Items, &Rect{W: s.W, H: s.H, Style: Style{Fill: "#ffffff"}})
	for _, x := range l.LaneX {
		s.Items = append(s.Items, &Line{X1: x, Y1: l.HeaderH - 12, X2: x, Y2: s.H, Style: Style{Stroke: colLane, Width: 1.2, Dash: 5}})
	}
	s.Items = append(s.Items, l.header...)
	return s
}

// Page draws rows [from, to) under the header.
func (l *Layout) Page(from, to int) *Scene {
	top, bottom := 0.0, 0.0
	if from < to {
		top = l.Rows[from].Y
		for i := from; i < to; i++ {
			bottom = max(bottom, l.Rows[i].Bottom)
		}
	}
	s := &Scene{W: l.W, H: l.HeaderH + (bottom - top) + 24}
	s.Items = make([]Shape, 0, len(l.header)+len(l.LaneX)+len(l.spans)+(to-from)+1)
	s.Items = append(s.Items, &Rect{W: s.W, H: s.H, Style: Style{Fill: "#ffffff"}})
	s.Items = append(s.Items, l.header...)
	for _, x := range l.LaneX {
		s.Items = append(s.Items, &Line{X1: x, Y1: l.HeaderH - 12, X2: x, Y2: s.H - 8, Style: Style{Stroke: colLane, Width: 1.2, Dash: 5}})
	}
	bodyY := func(row int, mid bool) float64 {
		if row < 0 || row >= to {
			return s.H - 8
		}
		if row < from {
			return l.HeaderH - 12
		}
		y := l.HeaderH + l.Rows[row].Y - top
		if mid {
			y += l.Rows[row].H / 2
		}
		return y
	}
	for _, b := range l.spans {
		if b.start >= to || (b.end >= 0 && b.end < from) {
			continue
		}
		y1, y2 := bodyY(b.start, true), bodyY(b.end, true)
		col := colIKE
		if b.child {
			col = colChildSA
		}
		s.Items = append(s.Items, &Group{Class: "span", Title: b.label, Items: []Shape{
			&Rect{X: b.x - 2.5, Y: y1, W: 5, H: max(y2-y1, 2), R: 1.5, Style: Style{Fill: col, FillOpacity: 0.55}},
		}})
	}
	for i := from; i < to; i++ {
		g := *l.Rows[i].G
		g.Y = l.HeaderH + l.Rows[i].Y - top
		s.Items = append(s.Items, &g)
	}
	return s
}

// placer draws rows.
type placer struct {
	l          *Layout
	d          *render.Diagram
	lanesRight float64
	compact    bool // scenario notes and SA rows take no room
}

// splitLabel parts a message label into its bold head ("IKE_AUTH request") and the
// payload summary.
func splitLabel(r render.Row) (head, summary string) {
	if e := r.Event; r.Exchange != "" && e != nil && e.Exchange() == r.Exchange {
		head = r.Exchange + " request"
		if e.Response() {
			head = r.Exchange + " response"
		}
		return head, e.Summary()
	}
	return "", r.Label
}

// sideText is the text of a row drawn beside a lifeline.
func sideText(d *render.Diagram, r render.Row) string {
	switch r.Kind {
	case render.RowError:
		return "ERROR " + r.Label
	}
	return r.Label
}

func (p *placer) text(g *Group, s string, x, y, size float64, bold bool, a Anchor, fill string) {
	g.Items = append(g.Items, &Text{X: x, Y: y + Ascent(size), S: s, Size: size, Bold: bold, Anchor: a, Fill: fill, W: Width(s, size, bold)})
}

// lines draws lines of text from top y and returns the height used.
func (p *placer) lines(g *Group, ls []string, x, y, size, lh float64, bold bool, a Anchor, fill string) float64 {
	for i, s := range ls {
		p.text(g, s, x, y+float64(i)*lh, size, bold, a, fill)
	}
	return float64(len(ls)) * lh
}

func maxWidth(ls []string, size float64, bold bool) float64 {
	w := 0.0
	for _, s := range ls {
		w = max(w, Width(s, size, bold))
	}
	return w
}

// room is the width beside lane i's lifeline, up to the SA bars left of the next one.
func (p *placer) room(i int) float64 {
	x := p.l.LaneX
	if i < len(x)-1 {
		return x[i+1] - x[i] - 34
	}
	return p.lanesRight - x[i] - 8
}

func (p *placer) row(r *render.Row) (*Group, float64) {
	g := &Group{Step: r.Step, Title: r.Label}
	if p.compact && (r.Kind == render.RowNote || r.Kind == render.RowSA) {
		return &Group{}, 0 // no room and nothing drawn; SA bars still start here
	}
	var h float64
	switch r.Kind {
	case render.RowPhase:
		g.Class = "phase"
		h = p.phase(g, r)
	case render.RowMessage:
		g.Class, g.ID = "msg", "m"+strconv.Itoa(r.Step)
		h = p.message(g, r)
	case render.RowNote:
		g.Class = "note"
		h = p.timelineNote(g, r)
	default:
		h = p.side(g, r)
	}
	// The time, at the left, level with the row's first line.
	if r.Kind != render.RowPhase {
		ty := 6.0
		if r.Kind == render.RowMessage {
			ty = h - 8 - 6 - smallSize
		}
		p.text(g, fmt.Sprintf("%.3fs", r.T.Seconds()), p.l.timeW, ty, smallSize, false, End, colMuted)
		g.Items[len(g.Items)-1].(*Text).Class = "time"
	}
	return g, h
}

func (p *placer) phase(g *Group, r *render.Row) float64 {
	x0 := 8.0
	w := p.lanesRight - x0
	g.Items = append(g.Items, &Rect{X: x0, Y: 6, W: w, H: 24, R: 3, Style: Style{Fill: colPhase}})
	p.text(g, r.Label, x0+w/2, 6+12-Ascent(headSize)/2-1, headSize, true, Middle, "#ffffff")
	return 36
}

func (p *placer) message(g *Group, r *render.Row) float64 {
	x1, x2 := p.l.LaneX[r.From], p.l.LaneX[r.To]
	left, right := min(x1, x2), max(x1, x2)
	mid := (left + right) / 2
	maxW := max(right-left-24, 100)
	col := colPlain
	dash := 0.0
	switch {
	case strings.HasPrefix(r.Proto, "ike"):
		col = colIKE
	case r.Proto == "esp":
		col = colESP
	case r.Proto == "nat-keepalive":
		dash = 3
	}
	if r.Retransmit {
		col = colRetx
	}
	if r.Lost {
		col, dash = colLost, 5
	}
	y := 6.0
	head, sum := splitLabel(*r)
	if head != "" {
		y += p.lines(g, Wrap(head, textSize, true, maxW), mid, y, textSize, lineH, true, Middle, col)
	}
	if sum != "" {
		y += p.lines(g, Wrap(sum, textSize, false, maxW), mid, y, textSize, lineH, false, Middle, colText)
	}
	tags := r.Tags(true)
	if len(tags) > 0 {
		tc := colRetx
		if r.Lost {
			tc = colLost
		}
		y += p.lines(g, Wrap("("+strings.Join(tags, "; ")+")", smallSize, false, maxW), mid, y, smallSize, smallLineH, false, Middle, tc)
	}
	if len(r.Weak) > 0 {
		y += p.lines(g, Wrap("weak: "+strings.Join(r.Weak, ", "), smallSize, false, maxW), mid, y, smallSize, smallLineH, false, Middle, colWeak)
	}
	ay := y + 6
	dir := 1.0
	if x2 < x1 {
		dir = -1
	}
	end := x2 - dir*1.5
	if r.Lost {
		end = x1 + (x2-x1)*0.62
	}
	g.Items = append(g.Items, &Line{X1: x1, Y1: ay, X2: end - dir*arrowLen*0.5, Y2: ay, Style: Style{Stroke: col, Width: 1.6, Dash: dash}})
	if r.Lost {
		const k = 5.0
		g.Items = append(g.Items,
			&Line{X1: end - k, Y1: ay - k, X2: end + k, Y2: ay + k, Style: Style{Stroke: colLost, Width: 2.2}},
			&Line{X1: end - k, Y1: ay + k, X2: end + k, Y2: ay - k, Style: Style{Stroke: colLost, Width: 2.2}})
	} else {
		g.Items = append(g.Items, &Poly{P: []float64{end, ay, end - dir*arrowLen, ay - 4.5, end - dir*arrowLen, ay + 4.5}, Style: Style{Fill: col}})
	}
	h := ay + 8
	g.Items = append(g.Items, &Rect{X: left - 4, Y: 0, W: right - left + 8, H: h, Hit: true, Style: Style{Fill: "#000000"}})
	return h
}

// side draws a row that belongs to one lane: a box or a marker beside its lifeline.
func (p *placer) side(g *Group, r *render.Row) float64 {
	lx := p.l.LaneX[r.Lane]
	room := max(p.room(r.Lane), 120)
	label := sideText(p.d, *r)
	ls := Wrap(label, textSize, false, room-2*boxPad)
	w := maxWidth(ls, textSize, false) + 2*boxPad
	th := float64(len(ls)) * lineH
	bx, by, bh := lx+8, 4.0, th+2*boxPad-4
	cy := by + bh/2
	fill, stroke, tcol := "#f7fafc", "#a0aec0", colText
	switch r.Kind {
	case render.RowAction:
		g.Class = "action"
		fill, stroke = "#ebf4ff", "#7f9cf5"
	case render.RowState:
		g.Class = "state"
		fill, stroke, tcol = "#faf5ff", colState, "#44337a"
		g.Items = append(g.Items, &Poly{P: []float64{lx, cy - 6, lx + 6, cy, lx, cy + 6, lx - 6, cy}, Style: Style{Fill: colState}})
	case render.RowSA:
		g.Class = "sa"
		col, f := colIKE, "#ebf8ff"
		if r.Event != nil && r.Event.SA != nil && r.Event.SA.Type == ike.SATypeChild {
			col, f = colChildSA, "#f0fff4"
		}
		fill, stroke = f, col
		g.Items = append(g.Items, &Rect{X: lx - 5, Y: cy - 5, W: 10, H: 10, Style: Style{Fill: col}})
	case render.RowTimer:
		g.Class = "timer"
		fill, stroke, tcol = "", "", colMuted
		g.Items = append(g.Items,
			&Rect{X: lx - 5, Y: cy - 5, W: 10, H: 10, R: 5, Style: Style{Fill: "#ffffff", Stroke: colMuted, Width: 1.2}},
			&Line{X1: lx, Y1: cy, X2: lx, Y2: cy - 3.5, Style: Style{Stroke: colMuted, Width: 1.2}},
			&Line{X1: lx, Y1: cy, X2: lx + 2.5, Y2: cy, Style: Style{Stroke: colMuted, Width: 1.2}})
	case render.RowDrop:
		g.Class = "drop"
		fill, stroke, tcol = "", "", colLost
		g.Items = append(g.Items,
			&Line{X1: lx - 5, Y1: cy - 5, X2: lx + 5, Y2: cy + 5, Style: Style{Stroke: colLost, Width: 2.2}},
			&Line{X1: lx - 5, Y1: cy + 5, X2: lx + 5, Y2: cy - 5, Style: Style{Stroke: colLost, Width: 2.2}})
	case render.RowError:
		g.Class = "error"
		fill, stroke, tcol = "#fff5f5", colLost, colLost
	}
	if r.Kind != render.RowTimer && r.Kind != render.RowDrop && r.Kind != render.RowState && r.Kind != render.RowSA {
		g.Items = append(g.Items, &Rect{X: lx - 3, Y: cy - 3, W: 6, H: 6, R: 3, Style: Style{Fill: stroke}})
	}
	if fill != "" {
		rad := 3.0
		if r.Kind == render.RowState {
			rad = bh / 2
		}
		g.Items = append(g.Items, &Rect{X: bx, Y: by, W: w, H: bh, R: rad, Style: Style{Fill: fill, Stroke: stroke, Width: 1}})
	}
	p.lines(g, ls, bx+boxPad, by+boxPad-2, textSize, lineH, false, Start, tcol)
	return bh + 8
}

// timelineNote draws a scenario note across the lanes.
func (p *placer) timelineNote(g *Group, r *render.Row) float64 {
	x0 := p.l.LaneX[0]
	span := max(p.lanesRight-x0-24, 200)
	ls := Wrap(r.Label, textSize, false, span-2*boxPad)
	w := maxWidth(ls, textSize, false) + 2*boxPad
	h := float64(len(ls))*lineH + 2*boxPad - 4
	bx := x0 + 8
	g.Items = append(g.Items,
		&Rect{X: bx, Y: 4, W: w, H: h, Style: Style{Fill: "#fffbea", Stroke: "#d69e2e", Width: 1}},
		&Poly{P: []float64{bx + w - 8, 4, bx + w, 12, bx + w - 8, 12}, Style: Style{Fill: "#f6e05e"}})
	p.lines(g, ls, bx+boxPad, 4+boxPad-2, textSize, lineH, false, Start, "#744210")
	return h + 10
}

// note draws a row's explanatory note in the notes column at dy below the row's top,
// and returns its height.
func (p *placer) note(g *Group, r *render.Row, x, dy float64) float64 {
	ls := Wrap(r.Note, noteSize, false, notesW-2*boxPad)
	refs := Wrap(r.NoteRef, smallSize-1, false, notesW-2*boxPad)
	h := float64(len(ls))*(noteSize+3) + float64(len(refs))*(smallSize+2) + 2*boxPad
	g.Items = append(g.Items, &Rect{X: x, Y: dy, W: notesW, H: h, R: 3, Style: Style{Fill: "#fffff0", Stroke: "#d69e2e", Width: 0.8}})
	y := dy + boxPad - 1
	y += p.lines(g, ls, x+boxPad, y, noteSize, noteSize+3, false, Start, "#5f370e")
	p.lines(g, refs, x+boxPad, y+1, smallSize-1, smallSize+2, false, Start, "#975a16")
	return h
}
