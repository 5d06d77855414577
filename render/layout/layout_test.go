package layout

import (
	"strings"
	"testing"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
)

// TestNotesOncePerKind checks the model's notes as the layout draws them: the first
// IKE_SA_INIT request and response, IKE_AUTH and ESP get one each, with an RFC
// reference, and no kind of message gets two.
func TestNotesOncePerKind(t *testing.T) {
	d := rendertest.Diagram(t, "ikev2-ping", render.Options{})
	notes := map[string]int{}
	for _, r := range d.Rows {
		if r.Note == "" {
			continue
		}
		if !strings.HasPrefix(r.NoteRef, "RFC ") {
			t.Errorf("step %d: note reference %q", r.Step, r.NoteRef)
		}
		notes[r.Note]++
		if notes[r.Note] > 1 {
			t.Errorf("step %d repeats the note %q", r.Step, r.Note)
		}
	}
	for _, want := range []string{"(SAi1)", "(SAr1)", "(IDi, AUTH)", "(IDr, AUTH)", "encrypted in ESP", "empty INFORMATIONAL request", "another Child SA"} {
		found := false
		for n := range notes {
			found = found || strings.Contains(n, want)
		}
		if !found {
			t.Errorf("no note says %q", want)
		}
	}
	l := New(d, Options{Notes: true})
	drawn := 0
	for _, p := range l.Rows {
		if p.Bottom < p.Y+p.H {
			t.Errorf("row at %.0f ends at %.0f above its height %.0f", p.Y, p.Bottom, p.H)
		}
		for _, it := range p.G.Items {
			if tx, ok := it.(*Text); ok && strings.HasPrefix(tx.S, "RFC 7296, Section 1.2") {
				drawn++
			}
		}
	}
	if drawn != 4 {
		t.Errorf("%d notes cite RFC 7296, Section 1.2, want the 4 of IKE_SA_INIT and IKE_AUTH", drawn)
	}
}

// TestLostMessageDrawnLost checks the lossy scenario: the first IKE_AUTH request is
// lost with its reason, drawn as a dashed arrow that stops short of gw-b with a cross,
// and its retransmission follows.
func TestLostMessageDrawnLost(t *testing.T) {
	d := rendertest.Diagram(t, rendertest.Lossy, render.Options{})
	l := New(d, Options{})
	var lost, retx int
	for i, r := range d.Rows {
		if r.Kind != render.RowMessage || r.Exchange != "IKE_AUTH" || r.Event.Response() {
			continue
		}
		if r.Lost {
			lost++
			if r.LostReason == "" {
				t.Errorf("the lost IKE_AUTH request has no reason")
			}
			var arrow *Line
			for _, it := range l.Rows[i].G.Items {
				if ln, ok := it.(*Line); ok && arrow == nil {
					arrow = ln
				}
			}
			if arrow == nil || arrow.Dash == 0 || arrow.X2 >= l.LaneX[r.To]-20 {
				t.Errorf("the lost message's line is %+v, want dashed and short of gw-b at %.0f", arrow, l.LaneX[r.To])
			}
		}
		if r.Retransmit {
			retx++
		}
	}
	if lost != 1 || retx != 1 {
		t.Errorf("%d lost and %d retransmitted IKE_AUTH requests, want 1 and 1", lost, retx)
	}
	c := rendertest.Diagram(t, rendertest.Lossy, render.Options{CollapseRetx: true})
	for _, r := range c.Rows {
		if r.Kind == render.RowMessage && r.Exchange == "IKE_AUTH" && !r.Event.Response() && (r.Retries != 1 || r.Lost) {
			t.Errorf("collapsed: the IKE_AUTH request has %d retries, lost %v; want 1 and delivered", r.Retries, r.Lost)
		}
	}
}

// TestWrap keeps every line within the width and every word.
func TestWrap(t *testing.T) {
	s := "Compute the Diffie-Hellman shared secret g^ir (128 bytes); generate SKEYSEED = prf(Ni | Nr, g^ir) and a_very_long_identifier_that_has_no_spaces_at_all_and_must_be_cut"
	for _, w := range []float64{60, 150, 300, 2000} {
		ls := Wrap(s, 12, false, w)
		if strings.Join(strings.Fields(strings.Join(ls, " ")), "") != strings.Join(strings.Fields(s), "") {
			t.Errorf("width %.0f: the lines %q lose text", w, ls)
		}
		for _, l := range ls {
			if Width(l, 12, false) > w {
				t.Errorf("width %.0f: %q is %.1f wide", w, l, Width(l, 12, false))
			}
		}
	}
	if got := Width("iiii", 12, false); got <= 0 || got >= Width("MMMM", 12, false) {
		t.Errorf("the font's widths are not proportional: iiii %.1f", got)
	}
}
