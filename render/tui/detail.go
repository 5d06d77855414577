package tui

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/sim"
)

// fieldRef is what a tree node stands for: a field and the bytes its offsets index.
type fieldRef struct {
	f     *ike.Field
	bytes []byte
	plain bool // the bytes are decrypted plaintext
}

// showDetail fills the field tree and hex pane for the selected row.
func (u *UI) showDetail() {
	d := u.diagram
	if u.sel < 0 || u.sel >= len(d.Rows) {
		return
	}
	r := d.Rows[u.sel]
	e := r.Event
	var root *tview.TreeNode
	switch {
	case e != nil && (e.Kind == sim.KindMessage || e.Kind == sim.KindRecv || e.Kind == sim.KindDrop) && e.Fields() != nil:
		f := e.Fields()
		root = tview.NewTreeNode(fmt.Sprintf("%s  %s → %s", r.Label, e.From, e.To)).SetSelectable(true)
		root.SetReference(fieldRef{f: &ike.Field{Name: "message", Length: len(e.Bytes)}, bytes: e.Bytes})
		addLayers(root, f, e.Bytes)
	default:
		root = tview.NewTreeNode(rowLabel(d, r))
		for _, line := range detailLines(r) {
			root.AddChild(tview.NewTreeNode(line).SetSelectable(true))
		}
	}
	u.tree.SetRoot(root).SetCurrentNode(root)
	u.tree.SetTitle(fmt.Sprintf(" Fields: step %d at %.3fs ", r.Step, r.T.Seconds()))
	u.showHex(root)
}

// addLayers shows the protocol layer a student came for (IKE, ESP, ICMP) first and
// unfolded, and the IPv4 and UDP headers below it, folded.
func addLayers(root *tview.TreeNode, ip *ike.Field, bytes []byte) {
	var headers, layers []*ike.Field
	for _, c := range ip.Children {
		switch {
		case len(c.Children) == 0:
			headers = append(headers, c)
		case c.Name == "UDP":
			layers = append(layers, c.Children...)
		default:
			layers = append(layers, c)
		}
	}
	var udp *ike.Field
	for _, c := range ip.Children {
		if c.Name == "UDP" {
			udp = c
		}
	}
	for _, l := range layers {
		if len(l.Children) > 0 {
			root.AddChild(fieldNode(l, bytes, false, 0))
		}
	}
	if udp != nil {
		u := *udp
		u.Children = nil
		for _, c := range udp.Children {
			if len(c.Children) == 0 {
				u.Children = append(u.Children, c)
			}
		}
		root.AddChild(fieldNode(&u, bytes, false, 0).SetExpanded(false))
	}
	h := *ip
	h.Children = headers
	root.AddChild(fieldNode(&h, bytes, false, 0).SetExpanded(false))
}

// fieldNode makes the tree of a field; children of a decrypted payload index its plaintext.
func fieldNode(f *ike.Field, bytes []byte, plain bool, depth int) *tview.TreeNode {
	text := f.Name
	if f.Value != "" {
		text += ": " + f.Value
	}
	if f.Plain != nil {
		text += "  [decrypted]"
	}
	if f.Error != "" {
		text += "  [error: " + f.Error + "]"
	}
	if f.Explain != "" {
		text += "  — " + f.Explain
	}
	n := tview.NewTreeNode(tview.Escape(text)).SetSelectable(true).SetReference(fieldRef{f: f, bytes: bytes, plain: plain})
	switch {
	case f.Error != "":
		n.SetColor(tcell.ColorRed)
	case f.Plain != nil:
		n.SetColor(tcell.ColorGreen)
	case len(f.Children) > 0:
		n.SetColor(tcell.ColorBlue)
	}
	childBytes, childPlain := bytes, plain
	if f.Plain != nil {
		childBytes, childPlain = f.Plain, true
	}
	for _, c := range f.Children {
		n.AddChild(fieldNode(c, childBytes, childPlain, depth+1))
	}
	n.SetExpanded(depth < 4 && !strings.HasSuffix(f.Name, "Header"))
	return n
}

// detailLines describes a row that is not a message.
func detailLines(r render.Row) []string {
	e := r.Event
	if e == nil {
		return nil
	}
	var out []string
	add := func(k, v string) {
		if v != "" {
			out = append(out, k+": "+v)
		}
	}
	add("kind", string(e.Kind))
	add("node", e.Node)
	add("text", e.Text)
	add("state machine", e.Machine)
	if e.Kind == sim.KindState {
		add("from", e.FromState)
		add("to", e.ToState)
	}
	add("timer", e.Timer)
	add("op", e.Op)
	if s := e.SA; s != nil {
		add("SA", s.Type+" "+s.Conn+" "+s.Child)
		add("proposal", s.Proposal)
		add("SPIi", s.SPIi)
		add("SPIr", s.SPIr)
		add("SPI in", s.SPIIn)
		add("SPI out", s.SPIOut)
		add("mode", s.Mode)
		add("local TS", strings.Join(s.LocalTS, ", "))
		add("remote TS", strings.Join(s.RemoteTS, ", "))
		for _, k := range []struct {
			n string
			v []byte
		}{{"SK_ei", s.SKei}, {"SK_er", s.SKer}, {"SK_ai", s.SKai}, {"SK_ar", s.SKar},
			{"encryption key in", s.EncrKeyIn}, {"integrity key in", s.IntegKeyIn},
			{"encryption key out", s.EncrKeyOut}, {"integrity key out", s.IntegKeyOut}} {
			if len(k.v) > 0 {
				add(k.n, hex.EncodeToString(k.v))
			}
		}
		add("reason", s.Reason)
	}
	if len(e.Weak) > 0 {
		add("weak algorithms", strings.Join(e.Weak, ", "))
	}
	return out
}

// showHex dumps the bytes of the selected field's byte space, the field highlighted.
func (u *UI) showHex(n *tview.TreeNode) {
	ref, ok := n.GetReference().(fieldRef)
	if !ok || len(ref.bytes) == 0 {
		u.hex.SetText("")
		u.hex.SetTitle(" Bytes ")
		return
	}
	lo, hi := ref.f.Offset, ref.f.Offset+ref.f.Length
	if ref.f.Name == "message" {
		lo, hi = 0, 0
	}
	_, _, w, _ := u.hex.GetInnerRect()
	u.hex.SetText(hexDump(ref.bytes, lo, hi, w))
	title := fmt.Sprintf(" Bytes: %d", len(ref.bytes))
	if ref.plain {
		title += " decrypted"
	}
	if hi > lo {
		title += fmt.Sprintf(", field at %d+%d", lo, hi-lo)
	}
	u.hex.SetTitle(title + " ")
	// Scroll to the highlighted line.
	u.hex.ScrollTo(max(0, lo/perLine(w)-2), 0)
}

// perLine is how many bytes a hex line of width w holds (0: not drawn yet), and whether
// the ASCII column fits beside them.
func perLine(w int) int {
	n, _ := hexLayout(w)
	return n
}

func hexLayout(w int) (n int, ascii bool) {
	switch {
	case w == 0 || w >= 16*4+7:
		return 16, true
	case w >= 8*4+7:
		return 8, true
	case w >= 8*3+6:
		return 8, false
	}
	return 4, false
}

// hexDump formats b for a pane w columns wide, bytes lo..hi highlighted.
func hexDump(b []byte, lo, hi, w int) string {
	per, withASCII := hexLayout(w)
	var s strings.Builder
	for off := 0; off < len(b); off += per {
		fmt.Fprintf(&s, "[gray]%04x[-]  ", off)
		var ascii strings.Builder
		for i := off; i < off+per; i++ {
			if i >= len(b) {
				s.WriteString("   ")
				continue
			}
			in := i >= lo && i < hi
			if in {
				s.WriteString("[::r]")
			}
			fmt.Fprintf(&s, "%02x", b[i])
			if in {
				s.WriteString("[::-]")
			}
			s.WriteString(" ")
			c := b[i]
			if c < 32 || c > 126 {
				c = '.'
			}
			if in {
				ascii.WriteString("[::r]")
			}
			ascii.WriteString(tview.Escape(string(rune(c))))
			if in {
				ascii.WriteString("[::-]")
			}
		}
		if withASCII {
			s.WriteString(" " + ascii.String())
		}
		s.WriteString("\n")
	}
	return s.String()
}
