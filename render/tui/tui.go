// Package tui is ikesim's terminal walkthrough: step through a run like Packet Tracer's
// simulation mode, watch the sequence diagram grow, and click any message to see every
// field, its bytes and what it is for.
//
// It draws the render package's diagram model with tview and tcell. Nothing below it
// (render, sim, scenarios, the protocol packages) imports it.
package tui

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/sim/trace"
)

// LabLine is one graded expectation.
type LabLine struct {
	Says, Check, Seen string
	Pass              bool
	// Pending says that the run so far cannot decide the check yet.
	Pending bool
}

// Config is what the walkthrough shows.
type Config struct {
	Title       string
	Description string
	// Hint and Solution are a lab's help, shown in the lab pane on request (h, S).
	Hint, Solution string
	Trace          *trace.Trace
	// Lab grades the scenario's expectations against the trace up to and including
	// the event with sequence number upTo; nil when there is no scenario (a saved trace).
	Lab func(upTo int) []LabLine
	// Lanes picks and folds the diagram's lanes (Nodes, Fold); the rest of it is the
	// walkthrough's own.
	Lanes render.Options
}

// UI is the walkthrough application.
type UI struct {
	cfg     Config
	app     *tview.Application
	diagram *render.Diagram
	steps   []int // indices of the rows one steps through (every row but phase headers)

	stepOf []int // diagram row -> index into steps (a phase header: the step after it)
	starts []int // rows that open an exchange (] and [)

	cur int // index into steps: how far the walkthrough has come
	sel int // selected diagram row

	pages   *tview.Pages // sequence, events, nodes, lab
	page    string
	seq     *tview.Table
	seqData *seqContent
	main    *tview.Flex // the pages, the detail area and the status bar
	bottom  *tview.Flex // the detail area: fields (tree and explanation) and bytes
	fields  *tview.Flex // the field tree over its explanation, in one box
	tree    *tview.TreeView
	about   *tview.TextView // the selected field or row, explained in full
	hex     *tview.TextView
	hasHex  bool            // the selected row has bytes to show
	shown   map[string]bool // the lab's hint and solution, once asked for
	wide    bool            // the detail area takes the full width and more height (w)
	width   int             // the screen's width at the last layout
	status  *statusBar
	events  *eventList
	nodes   *tview.TextView
	lab     *tview.TextView
	root    *tview.Pages // the main layout and the help overlay

	mu      sync.Mutex
	playing bool
	speed   time.Duration
	stop    chan struct{}
}

// New builds the walkthrough for a trace.
func New(cfg Config) *UI {
	u := &UI{cfg: cfg, app: tview.NewApplication(), speed: 700 * time.Millisecond}
	u.diagram = render.Build(cfg.Trace, render.Options{Nodes: cfg.Lanes.Nodes, Fold: cfg.Lanes.Fold})
	u.steps = u.diagram.Steps()
	u.starts = u.diagram.ExchangeStarts()
	u.stepOf = make([]int, len(u.diagram.Rows))
	for i, j := 0, 0; i < len(u.diagram.Rows); i++ {
		u.stepOf[i] = min(j, max(len(u.steps)-1, 0))
		if j < len(u.steps) && u.steps[j] == i {
			j++
		}
	}
	u.build()
	u.goTo(0)
	return u
}

// App is the tview application, for tests that draw on a simulation screen.
func (u *UI) App() *tview.Application { return u.app }

// Run shows the walkthrough until the user quits.
func (u *UI) Run() error {
	defer u.pause()
	return u.app.Run()
}

func (u *UI) build() {
	u.seqData = &seqContent{u: u}
	u.seq = tview.NewTable().SetContent(u.seqData).SetFixed(1, 0).SetSelectable(true, false)
	u.seq.SetBorder(true).SetTitle(" Sequence ")
	u.seq.SetSelectedStyle(tcell.StyleDefault.Reverse(true))
	u.seq.SetSelectionChangedFunc(func(row, _ int) {
		if row >= 1 && row-1 != u.sel {
			u.sel = row - 1
			u.showDetail()
		}
	})
	u.tree = tview.NewTreeView()
	u.tree.SetChangedFunc(func(n *tview.TreeNode) { u.showField(n) })
	u.tree.SetSelectedFunc(u.treeSelected)
	u.about = tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true)
	rule := tview.NewTextView().SetDynamicColors(true).SetText("[gray]" + strings.Repeat("─", 400))
	u.fields = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(u.tree, 0, 3, false).
		AddItem(rule, 1, 0, false).
		AddItem(u.about, 0, 2, false)
	u.fields.SetBorder(true).SetTitle(" Fields ")
	u.hex = tview.NewTextView().SetDynamicColors(true).SetRegions(true).SetWrap(false)
	u.hex.SetBorder(true).SetTitle(" Bytes ")
	u.status = &statusBar{Box: tview.NewBox(), u: u}
	u.events = newEventList(u)
	u.nodes = tview.NewTextView().SetDynamicColors(true).SetWrap(true)
	u.nodes.SetBorder(true).SetTitle(" Nodes: SAs, SPD and SAD as of the current step ")
	u.lab = tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true)
	u.lab.SetBorder(true).SetTitle(" Lab ")

	u.pages = tview.NewPages().
		AddPage("sequence", u.seq, true, true).
		AddPage("events", u.events.view, true, false).
		AddPage("nodes", u.nodes, true, false).
		AddPage("lab", u.lab, true, false)
	u.page = "sequence"
	u.bottom = tview.NewFlex().AddItem(u.fields, 0, 1, false).AddItem(u.hex, 0, 1, false)
	u.main = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(u.pages, 0, 3, true).
		AddItem(u.bottom, 0, 2, false).
		AddItem(u.status, 1, 0, false)
	u.root = tview.NewPages().AddPage("main", u.main, true, true).AddPage("help", helpView(), true, false)
	u.app.SetRoot(u.root, true).SetFocus(u.seq).EnableMouse(true)
	u.app.SetInputCapture(u.keys)
	u.app.SetMouseCapture(func(ev *tcell.EventMouse, a tview.MouseAction) (*tcell.EventMouse, tview.MouseAction) {
		// tview turns a second click within half a second into a double click, which no
		// pane handles: every click counts here, however fast the next one comes.
		if a == tview.MouseLeftDoubleClick {
			a = tview.MouseLeftClick
		}
		return ev, a
	})
	u.app.SetBeforeDrawFunc(func(scr tcell.Screen) bool {
		w, _ := scr.Size()
		u.layout(w)
		return false
	})
}

// layout sizes the detail area for a screen w columns wide: the bytes pane as wide as
// its hex dump needs, hidden when the selected row has no bytes or in wide mode, where
// the fields and their explanations take the whole width and most of the height.
func (u *UI) layout(w int) {
	if w != u.width {
		u.width = w
		u.events.setTitle()
	}
	hw := 0
	if u.hasHex && !u.wide {
		hw = hexPaneWidth(w)
	}
	u.bottom.ResizeItem(u.hex, hw, 0)
	if u.wide {
		u.main.ResizeItem(u.pages, 0, 1)
		u.main.ResizeItem(u.bottom, 0, 2)
	} else {
		u.main.ResizeItem(u.pages, 0, 3)
		u.main.ResizeItem(u.bottom, 0, 2)
	}
}

// hexPaneWidth is the width of the bytes pane on a screen w columns wide: 16 bytes a
// line with their characters when there is room, else 8.
func hexPaneWidth(w int) int {
	switch {
	case w >= 150:
		return 16*4 + 7 + 2
	case w >= 110:
		return 8*4 + 7 + 2
	}
	return 8*3 + 6 + 2
}

// toggleWide switches the detail area between wide (fields and explanations only) and
// split (fields beside bytes).
func (u *UI) toggleWide() {
	u.wide = !u.wide
	if u.wide && u.app.GetFocus() == u.hex {
		u.app.SetFocus(u.tree)
	}
	u.layout(u.width)
	u.seq.Select(u.sel+1, 0) // keep the selected row in view in the resized pane
	if n := u.tree.GetCurrentNode(); n != nil {
		u.showHex(n)
	}
}

// keys handles the walkthrough's keys; keys a focused input needs pass through.
func (u *UI) keys(ev *tcell.EventKey) *tcell.EventKey {
	if u.events.searching() {
		return ev
	}
	if ev.Key() == tcell.KeyEscape && u.events.query != "" {
		u.events.clearSearch()
		return nil
	}
	if name, _ := u.root.GetFrontPage(); name == "help" {
		if ev.Key() == tcell.KeyEscape || ev.Rune() == '?' || ev.Rune() == 'q' {
			u.root.HidePage("help")
			return nil
		}
		return nil
	}
	focusSeq := u.app.GetFocus() == u.seq
	switch ev.Key() {
	case tcell.KeyRight:
		if focusSeq {
			u.step(1)
			return nil
		}
	case tcell.KeyLeft:
		if focusSeq {
			u.step(-1)
			return nil
		}
	case tcell.KeyHome:
		u.goTo(0)
		return nil
	case tcell.KeyEnd:
		u.goTo(len(u.steps) - 1)
		return nil
	case tcell.KeyTab:
		u.cycleFocus()
		return nil
	case tcell.KeyEscape:
		u.pause()
		return nil
	}
	switch ev.Rune() {
	case 'q':
		u.pause()
		u.app.Stop()
		return nil
	case '?':
		u.root.ShowPage("help")
		return nil
	case 'n':
		u.step(1)
	case 'p':
		u.step(-1)
	case ' ':
		u.togglePlay()
	case '+', '=':
		u.setSpeed(u.speed / 2)
	case '-', '_':
		u.setSpeed(u.speed * 2)
	case 'g':
		u.goTo(0)
	case 'G':
		u.goTo(len(u.steps) - 1)
	case 'r':
		u.pause()
		u.goTo(0)
	case ']':
		u.nextExchange(1)
	case '[':
		u.nextExchange(-1)
	case '1':
		u.showPage("sequence")
	case '2':
		u.showPage("events")
	case '3':
		u.showPage("nodes")
	case '4':
		u.showPage("lab")
	case '/':
		u.showPage("events")
		u.events.startSearch()
	case 'w':
		u.toggleWide()
	case 'h':
		u.reveal("hint")
	case 'S':
		u.reveal("solution")
	default:
		if u.page == "events" && u.events.filterKey(ev.Rune()) {
			return nil
		}
		return ev
	}
	return nil
}

func (u *UI) cycleFocus() {
	switch u.app.GetFocus() {
	case u.seq, u.events.table:
		u.app.SetFocus(u.tree)
	case u.tree:
		u.app.SetFocus(u.about)
	case u.about:
		if u.hasHex && !u.wide {
			u.app.SetFocus(u.hex)
			break
		}
		fallthrough
	default:
		if u.page == "events" {
			u.app.SetFocus(u.events.table)
		} else {
			u.app.SetFocus(u.seq)
		}
	}
}

func (u *UI) showPage(name string) {
	u.page = name
	u.pages.SwitchToPage(name)
	switch name {
	case "sequence":
		u.app.SetFocus(u.seq)
	case "events":
		u.events.refresh()
		u.app.SetFocus(u.events.table)
	case "nodes":
		u.showNodes()
	case "lab":
		u.showLab()
	}
}

// curRow is the diagram row the walkthrough has reached.
func (u *UI) curRow() int {
	if len(u.steps) == 0 {
		return -1
	}
	return u.steps[u.cur]
}

// curSeq is the trace sequence number of the current step.
func (u *UI) curSeq() int {
	if r := u.curRow(); r >= 0 {
		return u.diagram.Rows[r].Step
	}
	return 0
}

// goTo moves the walkthrough to step i and selects its row.
func (u *UI) goTo(i int) {
	if len(u.steps) == 0 {
		return
	}
	i = max(0, min(i, len(u.steps)-1))
	u.cur = i
	u.sel = u.steps[i]
	u.seq.Select(u.sel+1, 0)
	u.showDetail()
	switch u.page {
	case "nodes":
		u.showNodes()
	case "lab":
		u.showLab()
	case "events":
		u.events.refresh()
	}
}

func (u *UI) step(d int) { u.goTo(u.cur + d) }

// goToRow moves the walkthrough to the step of a diagram row.
func (u *UI) goToRow(row int) {
	for i, r := range u.steps {
		if r >= row {
			u.goTo(i)
			return
		}
	}
}

// goToSeq moves the walkthrough to the event with this sequence number, or to the first
// row after it when the event has no row of its own (a datagram received, a timer).
func (u *UI) goToSeq(seq int) {
	for i, r := range u.steps {
		if u.diagram.Rows[r].Step >= seq {
			u.goTo(i)
			return
		}
	}
	u.goTo(len(u.steps) - 1)
}

// nextExchange jumps to the first message of the next exchange (dir 1) or of the
// previous one (dir -1): both land on the message that opens an exchange, so ] then [
// comes back.
func (u *UI) nextExchange(dir int) {
	here := u.curRow()
	if dir > 0 {
		for _, r := range u.starts {
			if r > here {
				u.goToRow(r)
				return
			}
		}
		return
	}
	for i := len(u.starts) - 1; i >= 0; i-- {
		if u.starts[i] < here {
			u.goToRow(u.starts[i])
			return
		}
	}
}

func (u *UI) togglePlay() {
	u.mu.Lock()
	playing := u.playing
	u.mu.Unlock()
	if playing {
		u.pause()
		return
	}
	u.mu.Lock()
	u.playing = true
	u.stop = make(chan struct{})
	stop := u.stop
	u.mu.Unlock()
	go func() {
		for {
			u.mu.Lock()
			d := u.speed
			u.mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(d):
			}
			u.app.QueueUpdateDraw(func() {
				if u.cur >= len(u.steps)-1 {
					u.pause()
					return
				}
				u.step(1)
			})
		}
	}()
}

func (u *UI) pause() {
	u.mu.Lock()
	if u.playing {
		close(u.stop)
		u.playing = false
	}
	u.mu.Unlock()
}

func (u *UI) setSpeed(d time.Duration) {
	u.mu.Lock()
	u.speed = max(50*time.Millisecond, min(d, 5*time.Second))
	u.mu.Unlock()
}

// statusBar is the line at the bottom: the scenario, the step, the time, the pages and
// the keys. It fits itself to the screen: when there is no room it shortens the title
// and the page names and drops hints, but always keeps "? help" and "q quit".
type statusBar struct {
	*tview.Box
	u *UI
}

// statusPart is a piece of the status line; when the line is too long, the parts with
// the lowest keep go first.
type statusPart struct {
	text string
	keep int
}

func (s *statusBar) parts(w int) []statusPart {
	u := s.u
	t := 0.0
	if r := u.curRow(); r >= 0 {
		t = u.diagram.Rows[r].T.Seconds()
	}
	title := u.cfg.Title
	if len(title) > max(8, w/5) {
		title = clip(title, max(8, w/5))
	}
	ps := []statusPart{
		{"[::b]" + tview.Escape(title) + "[::-]", 6},
		{fmt.Sprintf("step %d/%d", u.cur+1, len(u.steps)), 10},
		{fmt.Sprintf("t=%.3fs", t), 3},
	}
	u.mu.Lock()
	if u.playing {
		ps = append(ps, statusPart{fmt.Sprintf("▶ %s/step", u.speed), 8})
	}
	u.mu.Unlock()
	var long, short strings.Builder
	for i, p := range []string{"Seq", "Events", "Nodes", "Lab"} {
		name := []string{"sequence", "events", "nodes", "lab"}[i]
		if name == u.page {
			fmt.Fprintf(&long, "[::r]%d %s[::-] ", i+1, p)
			fmt.Fprintf(&short, "[::r]%d[::-]", i+1)
		} else {
			fmt.Fprintf(&long, "%d %s ", i+1, p)
			fmt.Fprintf(&short, "%d", i+1)
		}
	}
	ps = append(ps, statusPart{strings.TrimSpace(long.String()), 4}, statusPart{short.String(), -1},
		statusPart{"n/p step", 1}, statusPart{"space play", 0}, statusPart{"w wide", 5},
		statusPart{"? help", 100}, statusPart{"q quit", 100})
	return ps
}

// line composes the status line for w columns.
func (s *statusBar) line(w int) string {
	ps := s.parts(w)
	width := func(ps []statusPart) int {
		n := 0
		for _, p := range ps {
			if p.keep >= 0 {
				n += tview.TaggedStringWidth(p.text) + 2
			}
		}
		return n
	}
	for lowest := 0; width(ps) > w && lowest < 100; lowest++ {
		for i := range ps {
			if ps[i].keep == lowest {
				ps[i].keep = -2 // dropped
				if strings.HasPrefix(ps[i].text, "1 ") || strings.HasPrefix(ps[i].text, "[::r]1 ") {
					ps[i+1].keep = 50 // the short page names replace the long ones
				}
			}
		}
	}
	var b strings.Builder
	b.WriteString(" ")
	for _, p := range ps {
		if p.keep >= 0 {
			b.WriteString(p.text + "  ")
		}
	}
	return b.String()
}

// Draw draws the status line.
func (s *statusBar) Draw(scr tcell.Screen) {
	s.Box.DrawForSubclass(scr, s)
	x, y, w, _ := s.GetInnerRect()
	tview.Print(scr, s.line(w), x, y, w, tview.AlignLeft, tcell.ColorDefault)
}

// Show goes to step (counting from 1) and, in the field tree of its row, selects the
// first field called field (if not empty), unfolding what holds it. It reports whether
// both were found. Scripts that take pictures of the walkthrough use it.
func (u *UI) Show(step int, field string) bool {
	if step < 1 || step > len(u.steps) {
		return false
	}
	u.goTo(step - 1)
	if field == "" {
		return true
	}
	var found *tview.TreeNode
	var path []*tview.TreeNode
	var walk func(n *tview.TreeNode, above []*tview.TreeNode) bool
	walk = func(n *tview.TreeNode, above []*tview.TreeNode) bool {
		if ref, ok := n.GetReference().(fieldRef); ok && ref.f.Name == field {
			found, path = n, above
			return true
		}
		for _, c := range n.GetChildren() {
			if walk(c, append(above[:len(above):len(above)], n)) {
				return true
			}
		}
		return false
	}
	if !walk(u.tree.GetRoot(), nil) {
		return false
	}
	for _, n := range path {
		n.SetExpanded(true)
	}
	u.app.SetFocus(u.tree)
	u.tree.SetCurrentNode(found)
	u.showField(found)
	return true
}

// Wide sets the detail area wide (fields and explanations over the whole width) or
// split (fields beside bytes), as the w key toggles it.
func (u *UI) Wide(wide bool) {
	if u.wide != wide {
		u.toggleWide()
	}
}
