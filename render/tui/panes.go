package tui

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/rivo/tview"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/sim/trace"
)

// showNodes lists, for every node, its IKE SAs and Child SAs as of the current step,
// and the SPD and SAD entries they make.
func (u *UI) showNodes() {
	upTo := u.curSeq()
	type sa struct {
		rec *trace.SARecord
		at  trace.Seconds
	}
	up := map[string]map[string]sa{} // node -> key -> SA
	var order []string
	for _, e := range u.cfg.Trace.Events {
		if e.Seq > upTo {
			break
		}
		if e.Kind != trace.KindSA || e.SA == nil {
			continue
		}
		k := string(e.SA.Type) + e.SA.SPIi + e.SA.SPIr + e.SA.SPIIn
		if up[e.Node] == nil {
			up[e.Node] = map[string]sa{}
			order = append(order, e.Node)
		}
		if e.Op == "up" {
			up[e.Node][k] = sa{e.SA, e.T}
		} else {
			delete(up[e.Node], k)
		}
	}
	var b strings.Builder
	for _, l := range u.diagram.Lanes {
		found := false
		for _, n := range order {
			found = found || n == l.Name
		}
		if !found {
			order = append(order, l.Name)
		}
	}
	for _, node := range order {
		fmt.Fprintf(&b, "[::b]%s[::-]\n", tview.Escape(node))
		sas := up[node]
		keys := make([]string, 0, len(sas))
		for k := range sas {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return sas[keys[i]].at < sas[keys[j]].at })
		if len(keys) == 0 {
			b.WriteString("  no SAs\n")
		}
		var spd, sad []string
		for _, k := range keys {
			s := sas[k].rec
			if s.Type == "ike" {
				fmt.Fprintf(&b, "  IKE SA %s  SPIi %s SPIr %s  %s  up since %s\n", s.Conn, s.SPIi, s.SPIr, s.Proposal, sas[k].at)
				fmt.Fprintf(&b, "    SK_ei %s  SK_er %s\n", hex.EncodeToString(s.SKei), hex.EncodeToString(s.SKer))
				if len(s.SKai) > 0 {
					fmt.Fprintf(&b, "    SK_ai %s  SK_ar %s\n", hex.EncodeToString(s.SKai), hex.EncodeToString(s.SKar))
				}
				continue
			}
			life := ""
			if s.LifeTime > 0 {
				life = fmt.Sprintf(", lifetime %s", s.LifeTime)
			}
			fmt.Fprintf(&b, "  Child SA %s/%s  %s %s  SPI in 0x%s out 0x%s%s\n", s.Conn, s.Child, s.Mode, s.Proposal, s.SPIIn, s.SPIOut, life)
			fmt.Fprintf(&b, "    %s ↔ %s\n", strings.Join(s.LocalTS, ","), strings.Join(s.RemoteTS, ","))
			fmt.Fprintf(&b, "    keys in  %s %s\n    keys out %s %s\n", hex.EncodeToString(s.EncrKeyIn), hex.EncodeToString(s.IntegKeyIn),
				hex.EncodeToString(s.EncrKeyOut), hex.EncodeToString(s.IntegKeyOut))
			for _, l := range s.LocalTS {
				for _, r := range s.RemoteTS {
					spd = append(spd, fmt.Sprintf("out %s → %s protect (ESP %s)", l, r, s.Mode),
						fmt.Sprintf("in  %s → %s protect (ESP %s)", r, l, s.Mode))
				}
			}
			sad = append(sad, fmt.Sprintf("in  SPI 0x%s %s → %s", s.SPIIn, s.Remote, s.Local),
				fmt.Sprintf("out SPI 0x%s %s → %s", s.SPIOut, s.Local, s.Remote))
		}
		if len(spd) > 0 {
			b.WriteString("  SPD:\n")
			for _, p := range spd {
				b.WriteString("    " + p + "\n")
			}
			b.WriteString("  SAD:\n")
			for _, p := range sad {
				b.WriteString("    " + p + "\n")
			}
		}
		b.WriteString("\n")
	}
	u.nodes.SetText(b.String())
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
