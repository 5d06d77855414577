package tui

import (
	"fmt"
	"strings"

	"github.com/rivo/tview"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/sim/trace"
)

// showNodes lists, for every node in lane order, its IKE SAs and Child SAs as of the
// current step (those still being negotiated too), and its SPD and SAD.
func (u *UI) showNodes() {
	u.nodes.SetText(nodesText(u.cfg.Trace, u.diagram.Lanes, u.curSeq()))
}

// nodesText is the node pane's text as of event upTo: each lane's node in bold, then
// what it holds (render.NodeLines).
func nodesText(tr *trace.Trace, lanes []render.Lane, upTo int) string {
	nodes := render.NodeLines(tr, upTo)
	var b strings.Builder
	for _, l := range lanes {
		fmt.Fprintf(&b, "[::b]%s[::-]\n", tview.Escape(l.Name))
		lines, ok := nodes[l.Name]
		if !ok {
			lines = []string{"  no SAs"}
		}
		for _, line := range lines {
			b.WriteString(tview.Escape(line) + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// reveal shows the lab's hint or solution in the lab pane.
func (u *UI) reveal(what string) {
	if u.shown == nil {
		u.shown = map[string]bool{}
	}
	u.shown[what] = true
	u.showPage("lab")
}

// showLab shows the scenario's description and its expectations as of the current
// step, and the hint and solution once asked for.
func (u *UI) showLab() {
	var b strings.Builder
	fmt.Fprintf(&b, "[::b]%s[::-]\n\n%s\n\n", tview.Escape(u.cfg.Title), tview.Escape(render.Paragraphs(u.cfg.Description)))
	for _, h := range []struct{ key, name, text string }{{"h", "hint", u.cfg.Hint}, {"S", "solution", u.cfg.Solution}} {
		switch {
		case h.text == "":
		case u.shown[h.name]:
			fmt.Fprintf(&b, "[::b]%s%s:[::-] %s\n\n", strings.ToUpper(h.name[:1]), h.name[1:], tview.Escape(render.Paragraphs(h.text)))
		default:
			fmt.Fprintf(&b, "[gray]%s shows the %s[-]\n\n", h.key, h.name)
		}
	}
	if u.cfg.Lab == nil {
		b.WriteString("(a saved trace: no expectations to grade)\n")
		u.lab.SetText(b.String())
		return
	}
	lines := u.cfg.Lab(u.curSeq())
	pass, pending := 0, 0
	for _, l := range lines {
		v := "[red]FAIL[-]"
		switch {
		case l.Pending:
			v = "[yellow]WAIT[-]"
			pending++
		case l.Pass:
			v = "[green]PASS[-]"
			pass++
		}
		fmt.Fprintf(&b, "%s  %s\n      %s (seen: %s)\n", v, tview.Escape(l.Says), tview.Escape(l.Check), tview.Escape(l.Seen))
	}
	fmt.Fprintf(&b, "\nas of step %d: %d of %d expectations met", u.cur+1, pass, len(lines))
	if pending > 0 {
		fmt.Fprintf(&b, ", %d not decided yet (WAIT)", pending)
	}
	b.WriteString("\n")
	u.lab.SetText(b.String())
}

func helpView() tview.Primitive {
	text := `[::b]ikesim walkthrough keys[::-]

  → or n      next step               ← or p      previous step
  space       play / pause            + / -       faster / slower
  g or Home   first step              G or End    last step
  ]  [        next / previous exchange
  r           reset to the start
  Tab         move between sequence, fields, explanation and bytes
  Enter       expand or fold a field
  mouse       click a message to see its fields and bytes
  1 2 3 4     sequence, event list, nodes (SAs, SPD, SAD), lab
  /           search the event list (as you type; Esc clears it)
  m a s e x   event list filters: messages, actions, states, ESP, errors
  w           wide detail: fields and explanations over the whole width
  h  S        the lab's hint, its solution
  ?           this help (Esc closes)
  q           quit
`
	tv := tview.NewTextView().SetDynamicColors(true).SetText(text)
	tv.SetBorder(true).SetTitle(" Help ")
	return tview.NewFlex().
		AddItem(nil, 0, 1, false).
		AddItem(tview.NewFlex().SetDirection(tview.FlexRow).
			AddItem(nil, 0, 1, false).AddItem(tv, 21, 0, true).AddItem(nil, 0, 1, false), 76, 0, true).
		AddItem(nil, 0, 1, false)
}
