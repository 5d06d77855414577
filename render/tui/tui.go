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
	"github.com/ikesim/ikesim/sim"
)

// LabLine is one graded expectation.
type LabLine struct {
	Says, Check, Seen string
	Pass              bool
}

// Config is what the walkthrough shows.
type Config struct {
	Title       string
	Description string
	Trace       *sim.Trace
	// Lab grades the scenario's expectations against the trace up to and including
	// the event with sequence number upTo; nil when there is no scenario (a saved trace).
	Lab func(upTo int) []LabLine
}

// UI is the walkthrough application.
type UI struct {
	cfg     Config
	app     *tview.Application
	diagram *render.Diagram
	steps   []int // indices of the rows one steps through (every row but phase headers)

	cur int // index into steps: how far the walkthrough has come
	sel int // selected diagram row

	pages   *tview.Pages // sequence, events, nodes, lab
	page    string
	seq     *tview.Table
	seqData *seqContent
	tree    *tview.TreeView
	hex     *tview.TextView
	status  *tview.TextView
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
	u.diagram = render.Build(cfg.Trace, render.Options{})
	for i, r := range u.diagram.Rows {
		if r.Kind != render.RowPhase {
			u.steps = append(u.steps, i)
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
	u.tree.SetBorder(true).SetTitle(" Fields ")
	u.tree.SetChangedFunc(func(n *tview.TreeNode) { u.showHex(n) })
	u.tree.SetSelectedFunc(func(n *tview.TreeNode) { n.SetExpanded(!n.IsExpanded()) })
	u.hex = tview.NewTextView().SetDynamicColors(true).SetRegions(true).SetWrap(false)
	u.hex.SetBorder(true).SetTitle(" Bytes ")
	u.status = tview.NewTextView().SetDynamicColors(true)
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
	bottom := tview.NewFlex().AddItem(u.tree, 0, 1, false).AddItem(u.hex, 0, 1, false)
	main := tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(u.pages, 0, 3, true).
		AddItem(bottom, 0, 2, false).
		AddItem(u.status, 1, 0, false)
	u.root = tview.NewPages().AddPage("main", main, true, true).AddPage("help", helpView(), true, false)
	u.app.SetRoot(u.root, true).SetFocus(u.seq).EnableMouse(true)
	u.app.SetInputCapture(u.keys)
}

// keys handles the walkthrough's keys; keys a focused input needs pass through.
func (u *UI) keys(ev *tcell.EventKey) *tcell.EventKey {
	if u.events.searching() {
		return ev
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
		u.app.SetFocus(u.hex)
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
	u.showStatus()
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
		u.showStatus()
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
	u.showStatus()
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

// nextExchange jumps to the next (or previous) message of another exchange.
func (u *UI) nextExchange(dir int) {
	rows := u.diagram.Rows
	here := ""
	if r := u.curRow(); r >= 0 && rows[r].Kind == render.RowMessage {
		here = rows[r].Exchange + rows[r].Proto
	}
	for i := u.cur + dir; i >= 0 && i < len(u.steps); i += dir {
		r := rows[u.steps[i]]
		if r.Kind == render.RowMessage && r.Exchange != "" && r.Exchange+r.Proto != here {
			u.goTo(i)
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
	u.showStatus()
}

func (u *UI) pause() {
	u.mu.Lock()
	if u.playing {
		close(u.stop)
		u.playing = false
	}
	u.mu.Unlock()
	u.showStatus()
}

func (u *UI) setSpeed(d time.Duration) {
	u.mu.Lock()
	u.speed = max(50*time.Millisecond, min(d, 5*time.Second))
	u.mu.Unlock()
	u.showStatus()
}

func (u *UI) showStatus() {
	if u.status == nil {
		return
	}
	var b strings.Builder
	t := 0.0
	if r := u.curRow(); r >= 0 {
		t = u.diagram.Rows[r].T.Seconds()
	}
	fmt.Fprintf(&b, " [::b]%s[::-]  step %d/%d  t=%.3fs  ", tview.Escape(u.cfg.Title), u.cur+1, len(u.steps), t)
	u.mu.Lock()
	if u.playing {
		fmt.Fprintf(&b, "▶ playing (%s/step)  ", u.speed)
	}
	u.mu.Unlock()
	for i, p := range []string{"Seq", "Events", "Nodes", "Lab"} {
		name := []string{"sequence", "events", "nodes", "lab"}[i]
		if name == u.page {
			fmt.Fprintf(&b, "[::r]%d %s[::-] ", i+1, p)
		} else {
			fmt.Fprintf(&b, "%d %s ", i+1, p)
		}
	}
	b.WriteString(" n/p step  space play  ? help  q quit")
	u.status.SetText(b.String())
}
