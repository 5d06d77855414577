package tui

import (
	"fmt"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/sim/trace"
)

// fieldRef is what a tree node stands for: a field and the bytes its offsets index,
// with the fields above it (path, from the dissection's root) for its explanation.
type fieldRef struct {
	f     *ike.Field
	bytes []byte
	plain bool // the bytes are decrypted plaintext
	path  []*ike.Field
}

// linkRef is a tree node that leads to another step: Enter or a click goes there.
type linkRef struct{ row int }

// rowRef is the root of a row's tree: the row itself.
type rowRef struct{ row int }

// showDetail fills the field tree, its explanation and the hex pane for the selected row.
func (u *UI) showDetail() {
	d := u.diagram
	if u.sel < 0 || u.sel >= len(d.Rows) {
		return
	}
	r := d.Rows[u.sel]
	e := r.Event
	var root *tview.TreeNode
	u.hasHex = false
	switch {
	case e != nil && (e.Kind == trace.KindMessage || e.Kind == trace.KindRecv || e.Kind == trace.KindDrop) && e.Fields() != nil:
		f := e.Fields()
		root = tview.NewTreeNode(tview.Escape(fmt.Sprintf("%s  %s → %s", r.Label, e.From(), e.To()))).SetSelectable(true)
		root.SetReference(rowRef{u.sel})
		addLayers(root, f, e.Bytes())
		u.hasHex = len(e.Bytes()) > 0
	default:
		root = tview.NewTreeNode(tview.Escape(rowLabel(d, r))).SetReference(rowRef{u.sel})
		for _, line := range render.Details(r) {
			root.AddChild(tview.NewTreeNode(tview.Escape(line)).SetSelectable(true).SetReference(rowRef{u.sel}))
		}
		for _, l := range d.Links(u.cfg.Trace, u.sel) {
			root.AddChild(tview.NewTreeNode(tview.Escape(l.Text(d, u.stepOf[l.Row]+1))).SetSelectable(true).
				SetReference(linkRef{l.Row}).SetColor(tcell.ColorTeal))
		}
	}
	u.tree.SetRoot(root).SetCurrentNode(root)
	u.fields.SetTitle(fmt.Sprintf(" Fields: step %d at %.3fs ", u.stepOf[u.sel]+1, r.T.Seconds()))
	u.layout(u.width)
	u.showField(root)
}

// treeSelected acts on Enter or a click in the tree: a link goes to its step, a field
// with children folds or unfolds.
func (u *UI) treeSelected(n *tview.TreeNode) {
	if l, ok := n.GetReference().(linkRef); ok {
		u.goToRow(l.row)
		return
	}
	n.SetExpanded(!n.IsExpanded())
}

// showField explains the tree's current node in full and shows its bytes.
func (u *UI) showField(n *tview.TreeNode) {
	u.about.SetText(u.explain(n))
	u.about.ScrollToBeginning()
	u.showHex(n)
}

// explain is the text of the explanation pane for a tree node: for a field its value,
// what the dissector says of it, the catalog's explanation with its RFC section, and
// where its bytes are; for a row everything the trace says of it, unclipped.
func (u *UI) explain(n *tview.TreeNode) string {
	var b strings.Builder
	switch ref := n.GetReference().(type) {
	case fieldRef:
		f := ref.f
		fmt.Fprintf(&b, "[::b]%s[::-]", tview.Escape(f.Name))
		if f.Value != "" {
			fmt.Fprintf(&b, " = %s", tview.Escape(f.Value))
		}
		b.WriteString("\n")
		if f.Explain != "" {
			b.WriteString(tview.Escape(sentence(f.Explain)) + "\n")
		}
		if x, i := render.Explain(ref.path); i >= 0 && x.Text != f.Explain {
			b.WriteString(tview.Escape(x.Text))
			if x.Short != "" {
				fmt.Fprintf(&b, " [gray](%s · %s)[-]", tview.Escape(x.Short), tview.Escape(x.Ref))
			} else {
				fmt.Fprintf(&b, " [gray](%s)[-]", tview.Escape(x.Ref))
			}
			b.WriteString("\n")
		}
		if f.Error != "" {
			fmt.Fprintf(&b, "[red]%s[-]\n", tview.Escape(f.Error))
		}
		if f.Length > 0 {
			space := "message"
			if ref.plain {
				space = "decrypted payload"
			}
			if f.Length == 1 {
				fmt.Fprintf(&b, "[gray]byte %d of the %s[-]\n", f.Offset, space)
			} else {
				fmt.Fprintf(&b, "[gray]bytes %d–%d of the %s (%d bytes)[-]\n", f.Offset, f.Offset+f.Length-1, space, f.Length)
			}
		}
	case linkRef:
		r := u.diagram.Rows[ref.row]
		fmt.Fprintf(&b, "Enter goes to step %d: %s\n", u.stepOf[ref.row]+1, tview.Escape(rowLabel(u.diagram, r)))
	case rowRef:
		r := u.diagram.Rows[ref.row]
		fmt.Fprintf(&b, "[::b]step %d[::-] at %.3fs: %s\n", u.stepOf[ref.row]+1, r.T.Seconds(), tview.Escape(rowLabel(u.diagram, r)))
		if r.Kind == render.RowMessage {
			if e := r.Event; e != nil {
				fmt.Fprintf(&b, "%s → %s", tview.Escape(e.From()), tview.Escape(e.To()))
				if e.Src() != "" {
					fmt.Fprintf(&b, ", %s → %s", tview.Escape(e.Src()), tview.Escape(e.Dst()))
				}
				fmt.Fprintf(&b, ", %d bytes\n", len(e.Bytes()))
			}
			for _, t := range r.Tags(true) {
				fmt.Fprintf(&b, "[red]%s[-]\n", tview.Escape(t))
			}
			if r.Note != "" {
				fmt.Fprintf(&b, "%s [gray](%s)[-]\n", tview.Escape(r.Note), tview.Escape(r.NoteRef))
			}
			if len(r.Weak) > 0 {
				fmt.Fprintf(&b, "[red]weak: %s[-]\n", tview.Escape(strings.Join(r.Weak, ", ")))
			}
			b.WriteString("[gray]Tab moves to the fields; each one is explained here.[-]\n")
			break
		}
		for _, l := range render.Details(r) {
			b.WriteString(tview.Escape(l) + "\n")
		}
		for _, l := range u.diagram.Links(u.cfg.Trace, ref.row) {
			b.WriteString(tview.Escape(l.Text(u.diagram, u.stepOf[l.Row]+1)) + "\n")
		}
	default:
		b.WriteString(tview.Escape(n.GetText()))
	}
	return b.String()
}

// sentence ends s with a full stop.
func sentence(s string) string {
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, ")") && strings.Contains(s, "(RFC") {
		return s
	}
	return s + "."
}

// addLayers shows the protocol layer a student came for (IKE, ESP, ICMP) first and
// unfolded, and the IPv4 and UDP headers below it, folded.
func addLayers(root *tview.TreeNode, ip *ike.Field, bytes []byte) {
	var headers []*ike.Field
	var udp *ike.Field
	for _, c := range ip.Children {
		switch {
		case len(c.Children) == 0:
			headers = append(headers, c)
		case c.Name == "UDP":
			udp = c
			for _, l := range c.Children {
				if len(l.Children) > 0 {
					root.AddChild(fieldNode(l, bytes, false, 0, []*ike.Field{ip, c}))
				}
			}
		default:
			root.AddChild(fieldNode(c, bytes, false, 0, []*ike.Field{ip}))
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
		root.AddChild(fieldNode(&u, bytes, false, 0, []*ike.Field{ip}).SetExpanded(false))
	}
	h := *ip
	h.Children = headers
	root.AddChild(fieldNode(&h, bytes, false, 0, nil).SetExpanded(false))
}

// fieldNode makes the tree of a field; children of a decrypted payload index its
// plaintext. above are the fields over f, from the dissection's root.
func fieldNode(f *ike.Field, bytes []byte, plain bool, depth int, above []*ike.Field) *tview.TreeNode {
	path := append(above[:len(above):len(above)], f)
	text := f.Name
	if x, i := render.Explain(path); i >= 0 && x.Short != "" && !strings.Contains(f.Name, "("+x.Short+")") {
		text += " (" + x.Short + ")"
	}
	if f.Value != "" {
		text += ": " + f.Value
	}
	if f.Plain != nil {
		text += "  [decrypted]"
	}
	if f.Error != "" {
		text += "  [error: " + f.Error + "]"
	}
	n := tview.NewTreeNode(tview.Escape(text)).SetSelectable(true).SetReference(fieldRef{f: f, bytes: bytes, plain: plain, path: path})
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
		n.AddChild(fieldNode(c, childBytes, childPlain, depth+1, path))
	}
	n.SetExpanded(depth < 4 && !strings.HasSuffix(f.Name, "Header"))
	return n
}

// showHex dumps the bytes of the selected field's byte space, the field highlighted.
func (u *UI) showHex(n *tview.TreeNode) {
	ref, ok := n.GetReference().(fieldRef)
	if !ok {
		if r, isRow := n.GetReference().(rowRef); isRow && u.hasHex {
			if e := u.diagram.Rows[r.row].Event; e != nil {
				ref, ok = fieldRef{f: &ike.Field{}, bytes: e.Bytes()}, true
			}
		}
	}
	if !ok || len(ref.bytes) == 0 {
		u.hex.SetText("")
		u.hex.SetTitle(" Bytes ")
		return
	}
	lo, hi := ref.f.Offset, ref.f.Offset+ref.f.Length
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
