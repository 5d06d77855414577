package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
	"github.com/ikesim/ikesim/sim/trace"
)

func pingTrace(t testing.TB) *trace.Trace {
	t.Helper()
	return rendertest.Trace(t, "ikev2-ping")
}

// screenUI starts the walkthrough on a simulation screen of the given size.
func screenUI(t *testing.T, tr *trace.Trace, w, h int) (*UI, tcell.SimulationScreen) {
	t.Helper()
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		t.Fatal(err)
	}
	u := New(Config{Title: "ikev2-ping", Description: "test", Trace: tr})
	// Tell the test when each key and mouse event has been handled: injected events
	// and queued updates are not ordered with each other.
	handled = make(chan struct{}, 16)
	keys := u.App().GetInputCapture()
	u.App().SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		r := keys(ev)
		defer func() { handled <- struct{}{} }()
		return r
	})
	mouse := u.App().GetMouseCapture()
	u.App().SetMouseCapture(func(ev *tcell.EventMouse, a tview.MouseAction) (*tcell.EventMouse, tview.MouseAction) {
		ev, a = mouse(ev, a)
		if a == tview.MouseLeftClick {
			defer func() { handled <- struct{}{} }()
		}
		return ev, a
	})
	u.App().SetScreen(scr)
	scr.SetSize(w, h)
	done := make(chan error, 1)
	go func() { done <- u.App().Run() }()
	t.Cleanup(func() {
		u.App().Stop()
		<-done
	})
	draw(u)
	return u, scr
}

// draw makes the application draw now and waits until it has.
func draw(u *UI) {
	ok := make(chan struct{})
	u.App().QueueUpdateDraw(func() {})
	u.App().QueueUpdate(func() { close(ok) })
	<-ok
	ok2 := make(chan struct{})
	u.App().QueueUpdate(func() { close(ok2) })
	<-ok2
}

func screenText(scr tcell.SimulationScreen) []string {
	cells, w, h := scr.GetContents()
	lines := make([]string, h)
	for y := 0; y < h; y++ {
		var b strings.Builder
		for x := 0; x < w; x++ {
			c := cells[y*w+x]
			if len(c.Runes) > 0 {
				b.WriteRune(c.Runes[0])
			} else {
				b.WriteByte(' ')
			}
		}
		lines[y] = b.String()
	}
	return lines
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// handled receives once per key or click the application has processed.
var handled chan struct{}

func waitHandled(t *testing.T) {
	t.Helper()
	select {
	case <-handled:
	case <-time.After(5 * time.Second):
		t.Fatal("the application did not handle the event")
	}
}

func key(t *testing.T, u *UI, scr tcell.SimulationScreen, k tcell.Key, r rune) {
	t.Helper()
	scr.InjectKey(k, r, tcell.ModNone)
	waitHandled(t)
	draw(u)
}

func TestStepWithKeys(t *testing.T) {
	u, scr := screenUI(t, pingTrace(t), 120, 40)
	if contains(screenText(scr), "IKE_SA_INIT request") {
		t.Fatal("IKE_SA_INIT is shown before stepping to it")
	}
	for i := 0; i < 12 && !contains(screenText(scr), "IKE_SA_INIT request"); i++ {
		key(t, u, scr, tcell.KeyRune, 'n')
	}
	if !contains(screenText(scr), "IKE_SA_INIT request") {
		t.Fatal("stepping with n never shows IKE_SA_INIT")
	}
	before := u.cur
	key(t, u, scr, tcell.KeyRight, 0)
	key(t, u, scr, tcell.KeyLeft, 0)
	key(t, u, scr, tcell.KeyLeft, 0)
	if u.cur != before-1 {
		t.Errorf("→ ← ← moved from step %d to %d, want %d", before, u.cur, before-1)
	}
	key(t, u, scr, tcell.KeyRune, ']')
	key(t, u, scr, tcell.KeyRune, ']')
	if r := u.diagram.Rows[u.curRow()]; r.Exchange != "IKE_AUTH" {
		t.Errorf("] ] lands on %q, want the IKE_AUTH request", r.Label)
	}
	// ] and [ are symmetrical: both land on the request that opens an exchange, and [
	// from a response goes back to its own request.
	auth := u.cur
	key(t, u, scr, tcell.KeyRune, ']')
	next := u.cur
	key(t, u, scr, tcell.KeyRune, '[')
	if u.cur != auth {
		t.Errorf("] [ from the IKE_AUTH request goes to step %d, want %d", u.cur+1, auth+1)
	}
	key(t, u, scr, tcell.KeyRune, ']')
	key(t, u, scr, tcell.KeyRune, ']')
	key(t, u, scr, tcell.KeyRune, '[')
	if u.cur != next {
		t.Errorf("] ] [ goes to step %d, want %d", u.cur+1, next+1)
	}
	for i := 0; i < 8; i++ {
		key(t, u, scr, tcell.KeyRune, '[')
		if r := u.diagram.Rows[u.curRow()]; r.Kind != render.RowMessage || r.Event.Response() {
			t.Fatalf("[ lands on %q, want a request", r.Label)
		}
	}
	key(t, u, scr, tcell.KeyEnd, 0)
	if u.cur != len(u.steps)-1 {
		t.Errorf("End goes to step %d of %d", u.cur+1, len(u.steps))
	}
	key(t, u, scr, tcell.KeyRune, 'g')
	if u.cur != 0 {
		t.Errorf("g goes to step %d, want 1", u.cur+1)
	}
}

func TestClickMessageShowsFieldsAndBytes(t *testing.T) {
	u, scr := screenUI(t, pingTrace(t), 120, 40)
	key(t, u, scr, tcell.KeyRune, ']')
	key(t, u, scr, tcell.KeyRune, ']') // the IKE_AUTH request is on screen now
	key(t, u, scr, tcell.KeyRune, 'n')
	key(t, u, scr, tcell.KeyRune, 'n')
	lines := screenText(scr)
	y := -1
	for i, l := range lines {
		if strings.Contains(l, "Fields:") {
			break // the sequence pane ends here
		}
		if strings.Contains(l, "IKE_AUTH request") {
			y = i
		}
	}
	if y < 0 {
		t.Fatal("the IKE_AUTH request is not on screen")
	}
	scr.InjectMouse(60, y, tcell.Button1, tcell.ModNone)
	scr.InjectMouse(60, y, tcell.ButtonNone, tcell.ModNone)
	waitHandled(t)
	draw(u)
	if r := u.diagram.Rows[u.sel]; r.Kind != render.RowMessage || r.Exchange != "IKE_AUTH" {
		t.Fatalf("the click selected %q", r.Label)
	}
	lines = screenText(scr)
	for _, want := range []string{"IKEv2", "Encrypted and Authenticated", "0000  45 00"} {
		if !contains(lines, want) {
			t.Errorf("after the click the screen lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	// Open the decrypted payloads: walk the tree to IDi and check the hex pane follows.
	var idi *fieldRefNode
	walkTree(u, func(n fieldRefNode) {
		if idi == nil && strings.HasPrefix(n.ref.f.Name, "Identification - Initiator") && n.ref.plain {
			idi = &n
		}
	})
	if idi == nil {
		t.Fatal("the field tree has no decrypted IDi payload")
	}
	u.App().QueueUpdateDraw(func() {
		u.app.SetFocus(u.tree)
		u.tree.SetCurrentNode(idi.node)
		u.showHex(idi.node)
	})
	draw(u)
	lines = screenText(scr)
	if !contains(lines, "decrypted") || !contains(lines, "field at") {
		t.Errorf("the hex pane does not show the decrypted bytes of IDi:\n%s", strings.Join(lines, "\n"))
	}
	if idi.ref.f.Length == 0 || idi.ref.f.Offset+idi.ref.f.Length > len(idi.ref.bytes) {
		t.Errorf("IDi's byte range %d+%d does not fit its %d decrypted bytes", idi.ref.f.Offset, idi.ref.f.Length, len(idi.ref.bytes))
	}
}

func TestUsableAt80x24(t *testing.T) {
	u, scr := screenUI(t, pingTrace(t), 80, 24)
	for i := 0; i < 20; i++ {
		key(t, u, scr, tcell.KeyRune, 'n')
	}
	lines := screenText(scr)
	for _, want := range []string{"Sequence", "Fields: step 21 ", "step 21/", "gw-a", "gw-b", "? help", "q quit"} {
		if !contains(lines, want) {
			t.Errorf("80x24 screen lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	key(t, u, scr, tcell.KeyRune, '?')
	if !contains(screenText(scr), "walkthrough keys") {
		t.Error("? does not open the help")
	}
	key(t, u, scr, tcell.KeyEscape, 0)
	for i := 0; i < 30; i++ {
		key(t, u, scr, tcell.KeyRune, 'n')
	}
	key(t, u, scr, tcell.KeyRune, '3')
	if !contains(screenText(scr), "Child SA site-to-site/net") {
		t.Errorf("the node pane does not list the Child SA:\n%s", strings.Join(screenText(scr), "\n"))
	}
}

type fieldRefNode struct {
	node *tview.TreeNode
	ref  fieldRef
}

func walkTree(u *UI, fn func(fieldRefNode)) {
	u.tree.GetRoot().Walk(func(n, _ *tview.TreeNode) bool {
		if ref, ok := n.GetReference().(fieldRef); ok {
			fn(fieldRefNode{node: n, ref: ref})
		}
		return true
	})
}

func TestEventListFiltersAndSearch(t *testing.T) {
	u, scr := screenUI(t, pingTrace(t), 120, 40)
	key(t, u, scr, tcell.KeyEnd, 0)
	key(t, u, scr, tcell.KeyRune, '2')
	if u.page != "events" || len(u.events.shown) == 0 {
		t.Fatalf("2 shows page %q with %d events", u.page, len(u.events.shown))
	}
	all := len(u.events.shown)
	hasESP := func() bool {
		for _, e := range u.events.shown {
			if e.Proto() == "esp" {
				return true
			}
		}
		return false
	}
	if !hasESP() {
		t.Fatal("the event list has no ESP before filtering")
	}
	key(t, u, scr, tcell.KeyRune, 'e')
	if hasESP() || len(u.events.shown) >= all {
		t.Errorf("the ESP filter leaves %d of %d events, ESP among them: %v", len(u.events.shown), all, hasESP())
	}
	if !contains(screenText(scr), "-e:ESP") {
		t.Error("the title does not show the ESP filter off")
	}
	key(t, u, scr, tcell.KeyRune, 'e')
	key(t, u, scr, tcell.KeyRune, '/')
	for _, r := range "create_child" {
		key(t, u, scr, tcell.KeyRune, r)
	}
	key(t, u, scr, tcell.KeyEnter, 0)
	if len(u.events.shown) == 0 {
		t.Fatal("searching for create_child finds nothing")
	}
	for _, e := range u.events.shown {
		if !strings.Contains(strings.ToLower(render.EventText(e)), "create_child") {
			t.Errorf("the search keeps %q", render.EventText(e))
		}
	}
	// Enter on an event (the last one listed is selected) jumps the walkthrough to it, or
	// to the first row after it when it has none of its own.
	want := u.events.shown[len(u.events.shown)-1].Seq
	key(t, u, scr, tcell.KeyEnter, 0)
	if u.page != "sequence" || u.curSeq() < want || (u.cur > 0 && u.diagram.Rows[u.steps[u.cur-1]].Step >= want) {
		t.Errorf("Enter on event %d went to page %q, step at event %d", want, u.page, u.curSeq())
	}
}

func TestLabPaneGradesAsOfTheStep(t *testing.T) {
	tr := pingTrace(t)
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		t.Fatal(err)
	}
	calls := 0
	u := New(Config{Title: "lab", Description: "the lab's description", Trace: tr,
		Lab: func(upTo int) []LabLine {
			calls++
			up := false
			for _, e := range tr.Events {
				if e.Seq <= upTo && e.Kind == "sa" && e.Op == "up" {
					up = true
				}
			}
			return []LabLine{{Says: "an SA comes up", Check: "SA up", Seen: "", Pass: up}}
		}})
	u.showPage("lab")
	if !strings.Contains(u.lab.GetText(true), "FAIL") || !strings.Contains(u.lab.GetText(true), "the lab's description") {
		t.Errorf("at the first step the lab pane shows:\n%s", u.lab.GetText(true))
	}
	u.goTo(len(u.steps) - 1)
	if !strings.Contains(u.lab.GetText(true), "PASS") || calls < 2 {
		t.Errorf("at the last step the lab pane shows:\n%s", u.lab.GetText(true))
	}
}

// TestEveryClickCounts clicks two rows within a few milliseconds: tview would take the
// second for a double click and drop it.
func TestEveryClickCounts(t *testing.T) {
	u, scr := screenUI(t, pingTrace(t), 120, 40)
	for i := 0; i < 12; i++ {
		key(t, u, scr, tcell.KeyRune, 'n')
	}
	click := func(y int) {
		scr.InjectMouse(60, y, tcell.Button1, tcell.ModNone)
		scr.InjectMouse(60, y, tcell.ButtonNone, tcell.ModNone)
		waitHandled(t)
		draw(u)
	}
	// Rows 2 and 5 of the sequence pane are the diagram's rows 0 and 3 (a border and
	// the lane header come first).
	click(5)
	if u.sel != 3 {
		t.Fatalf("the first click selected row %d, want 3", u.sel)
	}
	click(2)
	if u.sel != 0 {
		t.Errorf("a second click right after the first selected row %d, want 0", u.sel)
	}
}

// TestSearchAsYouType checks that the event list follows each key of a search and
// that Esc clears it.
func TestSearchAsYouType(t *testing.T) {
	u, scr := screenUI(t, pingTrace(t), 120, 40)
	key(t, u, scr, tcell.KeyEnd, 0)
	key(t, u, scr, tcell.KeyRune, '2')
	all := len(u.events.shown)
	key(t, u, scr, tcell.KeyRune, '/')
	for _, r := range "create_" {
		key(t, u, scr, tcell.KeyRune, r)
	}
	if n := len(u.events.shown); n == 0 || n >= all {
		t.Fatalf("typing create_ lists %d of %d events before Enter", n, all)
	}
	key(t, u, scr, tcell.KeyEscape, 0)
	if u.events.query != "" || len(u.events.shown) != all || u.events.input.GetText() != "" {
		t.Errorf("Esc leaves the query %q and %d of %d events", u.events.query, len(u.events.shown), all)
	}
	// Esc clears a search that Enter kept, too.
	key(t, u, scr, tcell.KeyRune, '/')
	key(t, u, scr, tcell.KeyRune, 'x')
	key(t, u, scr, tcell.KeyEnter, 0)
	key(t, u, scr, tcell.KeyEscape, 0)
	if u.events.query != "" || len(u.events.shown) != all {
		t.Errorf("Esc after Enter leaves the query %q and %d of %d events", u.events.query, len(u.events.shown), all)
	}
}

// TestActionDetail checks the detail of an action: its whole text, wrapped, and links
// to the message its node received before it and to the one it sends next.
func TestActionDetail(t *testing.T) {
	u, scr := screenUI(t, pingTrace(t), 80, 24)
	var at int
	for i, r := range u.steps {
		if row := u.diagram.Rows[r]; row.Kind == render.RowAction && strings.HasPrefix(row.Label, "Compute AUTH") {
			at = i
			break
		}
	}
	u.App().QueueUpdateDraw(func() { u.goTo(at) })
	draw(u)
	full := u.diagram.Rows[u.steps[at]].Label
	if !strings.Contains(u.about.GetText(true), full) {
		t.Errorf("the explanation pane does not hold the whole action %q:\n%s", full, u.about.GetText(true))
	}
	var links []linkRef
	u.tree.GetRoot().Walk(func(n, _ *tview.TreeNode) bool {
		if l, ok := n.GetReference().(linkRef); ok {
			links = append(links, l)
		}
		return true
	})
	if len(links) != 2 {
		t.Fatalf("the action has %d links, want 2 (the message before, the message after)", len(links))
	}
	before, after := u.diagram.Rows[links[0].row], u.diagram.Rows[links[1].row]
	if before.Exchange != "IKE_SA_INIT" || !before.Event.Response() || after.Exchange != "IKE_AUTH" || after.Event.Response() {
		t.Errorf("the links go to %q and %q, want the IKE_SA_INIT response and the IKE_AUTH request", before.Label, after.Label)
	}
	u.App().QueueUpdateDraw(func() { u.treeSelected(u.tree.GetRoot().GetChildren()[len(u.tree.GetRoot().GetChildren())-1]) })
	draw(u)
	if u.curRow() != links[1].row {
		t.Errorf("following the link goes to row %d, want %d", u.curRow(), links[1].row)
	}
	if !contains(screenText(scr), fmt.Sprintf("Fields: step %d ", u.cur+1)) {
		t.Errorf("the Fields title does not show step %d", u.cur+1)
	}
}

// TestLabHintAndSolution checks that the lab pane hides the hint and the solution
// until h and S ask for them.
func TestLabHintAndSolution(t *testing.T) {
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		t.Fatal(err)
	}
	u := New(Config{Title: "lab", Description: "Which exchange fails?\nAnd why?", Hint: "Look at IKE_AUTH.", Solution: "The keys differ.", Trace: pingTrace(t)})
	u.showPage("lab")
	text := u.lab.GetText(true)
	if strings.Contains(text, "Look at IKE_AUTH.") || strings.Contains(text, "The keys differ.") || !strings.Contains(text, "h shows the hint") {
		t.Errorf("before h and S the lab pane shows:\n%s", text)
	}
	if !strings.Contains(text, "Which exchange fails? And why?") {
		t.Errorf("the description's lines are not joined for wrapping:\n%s", text)
	}
	u.keys(tcell.NewEventKey(tcell.KeyRune, 'h', tcell.ModNone))
	if text = u.lab.GetText(true); !strings.Contains(text, "Hint: Look at IKE_AUTH.") || strings.Contains(text, "The keys differ.") {
		t.Errorf("after h the lab pane shows:\n%s", text)
	}
	u.keys(tcell.NewEventKey(tcell.KeyRune, 'S', tcell.ModNone))
	if text = u.lab.GetText(true); !strings.Contains(text, "Solution: The keys differ.") {
		t.Errorf("after S the lab pane shows:\n%s", text)
	}
}

// TestLabPaneShowsPending: a check the run so far cannot decide shows as WAIT, not FAIL.
func TestLabPaneShowsPending(t *testing.T) {
	tr := pingTrace(t)
	u := New(Config{Title: "lab", Description: "d", Trace: tr,
		Lab: func(upTo int) []LabLine {
			return []LabLine{{Says: "not decided yet", Check: "c", Pending: upTo < len(tr.Events)}}
		}})
	u.showPage("lab")
	if text := u.lab.GetText(true); !strings.Contains(text, "WAIT  not decided yet") || strings.Contains(text, "FAIL") ||
		!strings.Contains(text, "1 not decided yet (WAIT)") {
		t.Errorf("at the first step the lab pane shows:\n%s", text)
	}
	u.goTo(len(u.steps) - 1)
	if text := u.lab.GetText(true); !strings.Contains(text, "FAIL  not decided yet") {
		t.Errorf("at the last step the lab pane shows:\n%s", text)
	}
}
