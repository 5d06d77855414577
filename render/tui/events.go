package tui

import (
	"fmt"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/sim/trace"
)

// eventList is Packet Tracer's event list: every event so far, with filters and search.
type eventList struct {
	u      *UI
	view   *tview.Flex
	table  *tview.Table
	input  *tview.InputField
	filter map[rune]bool // m messages, a actions, s states, e ESP, x errors
	query  string
	shown  []*trace.Event
}

var filterNames = []struct {
	key  rune
	name string
}{{'m', "messages"}, {'a', "actions"}, {'s', "states"}, {'e', "ESP"}, {'x', "errors"}}

func newEventList(u *UI) *eventList {
	l := &eventList{u: u, filter: map[rune]bool{'m': true, 'a': true, 's': true, 'e': true, 'x': true}}
	l.table = tview.NewTable().SetSelectable(true, false).SetFixed(1, 0)
	l.table.SetSelectedStyle(tcell.StyleDefault.Reverse(true))
	l.table.SetSelectedFunc(func(row, _ int) {
		if row >= 1 && row-1 < len(l.shown) {
			u.goToSeq(l.shown[row-1].Seq)
			u.showPage("sequence")
		}
	})
	l.input = tview.NewInputField().SetLabel("/").SetFieldBackgroundColor(tcell.ColorDefault)
	// The list follows every key typed; Enter keeps the search, Esc clears it.
	l.input.SetChangedFunc(func(text string) {
		l.query = strings.ToLower(text)
		l.refresh()
	})
	l.input.SetDoneFunc(func(k tcell.Key) {
		if k == tcell.KeyEscape {
			l.clearSearch()
			return
		}
		u.app.SetFocus(l.table)
	})
	l.view = tview.NewFlex().SetDirection(tview.FlexRow).AddItem(l.input, 1, 0, false).AddItem(l.table, 0, 1, true)
	l.view.SetBorder(true)
	l.setTitle()
	return l
}

// setTitle shows the filters in the title, in full when the pane is wide enough.
func (l *eventList) setTitle() {
	w := l.u.width
	var long, short strings.Builder
	long.WriteString(" Events  filters: ")
	short.WriteString(" Events ")
	for _, f := range filterNames {
		mark := "-"
		if l.filter[f.key] {
			mark = "+"
		}
		fmt.Fprintf(&long, "%s%c:%s ", mark, f.key, f.name)
		fmt.Fprintf(&short, "%s%c", mark, f.key)
	}
	long.WriteString(" Enter: go to  /: search ")
	short.WriteString("  / search ")
	if w > 0 && tview.TaggedStringWidth(long.String())+4 > w {
		l.view.SetTitle(short.String())
		return
	}
	l.view.SetTitle(long.String())
}

// clearSearch empties the search and lists every event the filters keep.
func (l *eventList) clearSearch() {
	l.input.SetText("")
	l.query = ""
	l.refresh()
	l.u.app.SetFocus(l.table)
}

func (l *eventList) searching() bool { return l.u.app.GetFocus() == l.input }

func (l *eventList) startSearch() { l.u.app.SetFocus(l.input) }

// filterKey toggles a filter; it reports whether the key was one.
func (l *eventList) filterKey(r rune) bool {
	if _, ok := l.filter[r]; !ok {
		return false
	}
	l.filter[r] = !l.filter[r]
	l.setTitle()
	l.refresh()
	return true
}

func (l *eventList) keep(e *trace.Event) bool {
	if !l.filter[render.EventCategory(e)] {
		return false
	}
	return l.query == "" || strings.Contains(strings.ToLower(render.EventText(e)), l.query)
}

// refresh lists the events up to the current step that pass the filters.
func (l *eventList) refresh() {
	upTo := l.u.curSeq()
	l.shown = l.shown[:0]
	for _, e := range l.u.cfg.Trace.Events {
		if e.Seq > upTo {
			break
		}
		if l.keep(e) {
			l.shown = append(l.shown, e)
		}
	}
	l.table.Clear()
	for i, h := range []string{"time", "node", "kind", "event"} {
		l.table.SetCell(0, i, tview.NewTableCell(h).SetSelectable(false).SetAttributes(tcell.AttrBold))
	}
	for i, e := range l.shown {
		l.table.SetCell(i+1, 0, tview.NewTableCell(fmt.Sprintf("%8.3f", e.T.Duration().Seconds())))
		l.table.SetCell(i+1, 1, tview.NewTableCell(e.Node))
		l.table.SetCell(i+1, 2, tview.NewTableCell(string(e.Kind)))
		l.table.SetCell(i+1, 3, tview.NewTableCell(tview.Escape(render.EventText(e))).SetExpansion(1))
	}
	if n := len(l.shown); n > 0 {
		l.table.Select(n, 0)
	}
}
