package html

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
	"github.com/ikesim/ikesim/render/layout"
	"github.com/ikesim/ikesim/scenarios"
)

// artifacts is where the browser tests keep their screenshots: $IKESIM_ARTIFACTS, or
// ikesim-artifacts in the temporary directory.
func artifacts(t *testing.T) string {
	dir := os.Getenv("IKESIM_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ikesim-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser opens headless Chromium (Debian's chromium package, installed when missing)
// with a window of w×h.
func browser(t *testing.T, w, h int) context.Context {
	chromium := testenv.Tool(t, "chromium", "chromium")
	dir := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(w, h),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// playerPage writes scenario name's player page, with its trace and lab, to a file.
func playerPage(t *testing.T, name string) string {
	run := rendertest.Run(t, name)
	d := rendertest.Diagram(t, name, render.Options{})
	f := run.Scenario.File
	var b bytes.Buffer
	err := Write(&b, d, Options{Options: layout.Options{Title: rendertest.Title(t, name), Notes: true}, Trace: run.Sim.Trace,
		Lab: &Lab{Description: f.Description, Hint: f.Hint, Solution: f.Solution}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), name+".html")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// shoot saves a screenshot as a test artifact.
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	out := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
}

// inView says whether the element sel lies inside the visible part of the scrolling
// pane that holds it, and of the window.
const inView = `(function(sel, pane){
  var e = document.querySelector(sel), p = document.querySelector(pane);
  if (!e || !p) return false;
  var r = e.getBoundingClientRect(), q = p.getBoundingClientRect();
  return r.height > 0 && r.top >= q.top - 1 && r.bottom <= q.bottom + 1 && r.bottom <= innerHeight && r.right <= innerWidth + 1;
})`

// TestPlayer opens ikev2-ping's player in headless Chromium at 1280x720, a projector's
// size: clicking the IKE_AUTH request shows its fields; clicking a decrypted field keeps
// it in view and highlights its bytes, which come into view in the decrypted dump; play
// advances the step; scrolled to the end, the lane names stay in sight; #step-14 opens
// step 14. Screenshots are kept as test artifacts.
func TestPlayer(t *testing.T) {
	file := playerPage(t, "ikev2-ping")
	for _, size := range []struct{ w, h int }{{1280, 720}, {1440, 900}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			ctx := browser(t, size.w, size.h)
			shotName := func(s string) string { return fmt.Sprintf("player-%dx%d-%s", size.w, size.h, s) }
			do(t, ctx, chromedp.EmulateViewport(int64(size.w), int64(size.h)))
			do(t, ctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS("#rows svg g.msg")))
			if got := eval[int](t, ctx, `ikesim.step()`); got != 1 {
				t.Errorf("the player opens at step %d", got)
			}

			// Click the IKE_AUTH request in the diagram.
			id := eval[string](t, ctx, `[...document.querySelectorAll('#rows g.msg')].find(g => g.querySelector('title').textContent.startsWith('IKE_AUTH request')).id`)
			do(t, ctx, chromedp.ScrollIntoView(chromedp.CSS("#"+id)), chromedp.Click(chromedp.CSS("#"+id+" rect.hit")))
			title := eval[string](t, ctx, `document.getElementById('p-title').textContent`)
			if !strings.HasPrefix(title, "IKE_AUTH request") {
				t.Fatalf("after the click the step pane shows %q", title)
			}
			if !eval[bool](t, ctx, inView+`('#`+id+` .hit', '#diagram')`) {
				t.Errorf("the clicked IKE_AUTH request is not in view")
			}
			decShort := eval[[]string](t, ctx, `[...document.querySelectorAll('#p-tree li.dec > ul > li > .row')].map(r => r.dataset.short || r.dataset.name)`)
			for _, want := range []string{"IDi", "IDr", "AUTH", "SA", "TSi", "TSr"} {
				if !slices.Contains(decShort, want) {
					t.Errorf("the decrypted payloads are %q, want %s among them", decShort, want)
				}
			}

			// Open the AUTH payload and click its data, far down the tree: the tree pane
			// scrolls to it first, as a user would, and the click must not move it away.
			do(t, ctx, chromedp.Click(chromedp.CSS(`#p-tree li.dec .row[data-short="AUTH"]`)))
			do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#p-tree li.dec .row[data-short="AUTH"]').parentNode.querySelector('.tog').click()`))
			sel := `#p-tree li.dec .row[data-name="Authentication Data"]`
			do(t, ctx, chromedp.ScrollIntoView(chromedp.CSS(sel)))
			do(t, ctx, chromedp.Click(chromedp.CSS(sel)))
			if !eval[bool](t, ctx, inView+`('`+sel+`', '#p-fields')`) {
				t.Errorf("the selected field went out of view after the click")
			}
			on := eval[int](t, ctx, `document.querySelectorAll('#p-dec .b.on').length`)
			if on < 16 {
				t.Errorf("the AUTH data highlights %d bytes of the decrypted payload", on)
			}
			if !eval[bool](t, ctx, inView+`('#p-dec .b.on', '#p-dec-sec')`) {
				t.Errorf("the highlighted bytes are not in view in the decrypted dump")
			}
			if x := eval[string](t, ctx, `document.getElementById('p-x').textContent`); !strings.Contains(x, "Key Pad for IKEv2") || !strings.Contains(x, "RFC 7296") {
				t.Errorf("the explanation of the AUTH data is %q", x)
			}
			do(t, ctx, chromedp.Click(chromedp.CSS(`#p-tree li.dec .row[data-short="IDi"]`)))
			if on := eval[int](t, ctx, `document.querySelectorAll('#p-dec .b.on').length`); on != 20 {
				t.Errorf("IDi highlights %d bytes of the decrypted payload, want 20", on)
			}
			shoot(t, ctx, shotName("ike-auth"))

			// Play advances the step.
			before := eval[int](t, ctx, `ikesim.step()`)
			do(t, ctx, chromedp.SetValue(chromedp.CSS("#c-speed"), "100"), chromedp.Click(chromedp.CSS("#c-play")))
			after := before
			for wait := time.Now(); after <= before+2 && time.Since(wait) < 10*time.Second; after = eval[int](t, ctx, `ikesim.step()`) {
				time.Sleep(50 * time.Millisecond)
			}
			do(t, ctx, chromedp.Click(chromedp.CSS("#c-play")))
			if after <= before+2 {
				t.Errorf("play went from step %d to %d in 10 s at 0.1 s a step", before, after)
			}
			paused := eval[int](t, ctx, `ikesim.step()`)
			time.Sleep(300 * time.Millisecond)
			if now := eval[int](t, ctx, `ikesim.step()`); now != paused {
				t.Errorf("pause did not stop: step %d, then %d", paused, now)
			}
			if h := eval[string](t, ctx, `location.hash`); h != fmt.Sprintf("#step-%d", eval[int](t, ctx, `ikesim.step()`)) {
				t.Errorf("the address holds %q", h)
			}

			// Scrolled to the end, the lane names stay in sight.
			do(t, ctx, chromedp.Evaluate[chromedp.Void](`ikesim.go(ikesim.steps.length - 1); var d = document.getElementById('diagram'); d.scrollTop = 1e9; d.scrollLeft = 0`))
			do(t, ctx, chromedp.Sleep(100*time.Millisecond))
			if st := eval[float64](t, ctx, `document.getElementById('diagram').scrollTop`); st < 2000 {
				t.Fatalf("the diagram scrolled to %.0f only", st)
			}
			lanes := eval[[]string](t, ctx, `(function(){
  var d = document.getElementById('diagram').getBoundingClientRect(), out = [];
  document.querySelectorAll('#lanes g.t').forEach(function (g) {
    var r = g.getBoundingClientRect();
    if (r.top >= d.top && r.bottom <= d.top + 80 && r.left >= d.left && r.right <= d.right) {
      var hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
      if (hit && hit.closest('#lanes')) out.push(g.getAttribute('aria-label'));
    }
  });
  return out;
})()`)
			if !slices.Contains(lanes, "host-a") || !slices.Contains(lanes, "gw-a") {
				t.Errorf("scrolled to the end, the lane names in sight are %q", lanes)
			}
			shoot(t, ctx, shotName("end"))

			// #step-14 lands on step 14, its row in view.
			do(t, ctx, chromedp.Navigate("file://"+file+"#step-14"), chromedp.WaitVisible(chromedp.CSS("#rows svg g.msg")))
			do(t, ctx, chromedp.Sleep(100*time.Millisecond))
			if got := eval[int](t, ctx, `ikesim.step()`); got != 14 {
				t.Errorf("#step-14 opens step %d", got)
			}
			if s := eval[string](t, ctx, `document.getElementById('step-no').textContent`); !strings.HasPrefix(s, "step 14 / ") {
				t.Errorf("#step-14 shows %q", s)
			}
			if !eval[bool](t, ctx, `(function(){ var g = document.querySelector('#rows g.cur'); if (!g) return false;
  var r = g.getBoundingClientRect(), d = document.getElementById('diagram').getBoundingClientRect();
  return r.top >= d.top + document.getElementById('lanes').offsetHeight - 1 && r.bottom <= d.bottom; })()`) {
				t.Errorf("step 14's row is not in view below the lane names")
			}
			shoot(t, ctx, shotName("step-14"))

			// The event list, as of the step, with the walkthrough's filters and search.
			do(t, ctx, chromedp.Evaluate[chromedp.Void](`ikesim.go(ikesim.steps.length - 1)`), chromedp.Click(chromedp.CSS(`#tabs button[data-tab="events"]`)))
			rows := `document.querySelectorAll('#event-list tr').length`
			esp := `[...document.querySelectorAll('#event-list tr')].filter(r => r.textContent.includes('ESP SPI')).length`
			all, allESP := eval[int](t, ctx, rows), eval[int](t, ctx, esp)
			do(t, ctx, chromedp.KeyEvent("e"))
			if n, e := eval[int](t, ctx, rows), eval[int](t, ctx, esp); allESP == 0 || e != 0 || n >= all {
				t.Errorf("the ESP filter leaves %d of %d events, %d of %d ESP", n, all, e, allESP)
			}
			do(t, ctx, chromedp.KeyEvent("e"), chromedp.Click(chromedp.CSS("#search")), chromedp.SendKeys(chromedp.CSS("#search"), "create_child"))
			if n := eval[int](t, ctx, rows); n == 0 || n >= all {
				t.Errorf("searching create_child lists %d of %d events", n, all)
			}
			shoot(t, ctx, shotName("events"))
			do(t, ctx, chromedp.KeyEvent("\x1b"))
			if n := eval[int](t, ctx, rows); n != all {
				t.Errorf("Esc leaves %d of %d events", n, all)
			}
			do(t, ctx, chromedp.Click(chromedp.CSS(`#tabs button[data-tab="nodes"]`)))
			if s := eval[string](t, ctx, `document.getElementById('nodes').textContent`); !strings.Contains(s, "Child SA site-to-site/net") || !strings.Contains(s, "SPI in 0x") ||
				!strings.Contains(s, "SPD:") || !strings.Contains(s, "in  ESP SPI 0x") {
				t.Errorf("the nodes pane at the last step shows %q", s)
			}
			shoot(t, ctx, shotName("nodes"))
		})
	}
}

// TestPlayerLab opens lab-wrong-psk's player with its expectations graded: at the first
// step the lab pane grades them as not met, at the last as the run ends; the hint and
// the solution stay hidden until asked for.
func TestPlayerLab(t *testing.T) {
	run := rendertest.Run(t, "lab-wrong-psk")
	f := run.Scenario.File
	d := rendertest.Diagram(t, "lab-wrong-psk", render.Options{})
	final := map[string]bool{}
	var b bytes.Buffer
	err := Write(&b, d, Options{Options: layout.Options{Title: f.Name}, Trace: run.Sim.Trace,
		Lab: &Lab{Description: f.Description, Hint: f.Hint, Solution: f.Solution, Grade: func(upTo int) []Result {
			var out []Result
			for _, r := range gradeFunc(run, upTo) {
				out = append(out, r)
				final[r.Says] = r.Pass && !r.Pending
			}
			return out
		}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "lab.html")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t, 1280, 720)
	do(t, ctx, chromedp.EmulateViewport(1280, 720))
	do(t, ctx, chromedp.Navigate("file://"+file+"#step-1"), chromedp.WaitVisible(chromedp.CSS("#rows svg g.msg")))
	do(t, ctx, chromedp.Click(chromedp.CSS(`#tabs button[data-tab="lab"]`)))
	lab := eval[string](t, ctx, `document.getElementById('lab').textContent`)
	if strings.Contains(lab, f.Solution[:30]) || strings.Contains(lab, f.Hint[:30]) || !strings.Contains(lab, "Show the hint") {
		t.Errorf("the lab pane shows the hint or the solution before it is asked, or no button:\n%s", lab)
	}
	wantPass := 0
	for _, p := range final {
		if p {
			wantPass++
		}
	}
	if !strings.Contains(lab, "Expectations as of step 1") {
		t.Errorf("the lab pane does not grade as of step 1:\n%s", lab)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#show-hint")))
	if lab := eval[string](t, ctx, `document.getElementById('lab').textContent`); !strings.Contains(lab, strings.Fields(f.Hint)[0]) {
		t.Errorf("the hint does not show:\n%s", lab)
	}
	do(t, ctx, chromedp.KeyEvent("G"))
	lab = eval[string](t, ctx, `document.getElementById('lab').textContent`)
	if !strings.Contains(lab, fmt.Sprintf("%d of %d expectations met", wantPass, len(final))) {
		t.Errorf("at the last step the lab pane does not say %d of %d met:\n%s", wantPass, len(final), lab)
	}
	shoot(t, ctx, "player-lab-wrong-psk")
}

// gradeFunc grades a run's expectations as of event upTo.
func gradeFunc(run *scenarios.Run, upTo int) []Result {
	var out []Result
	for _, r := range scenarios.GradeAt(run.Scenario, run.Sim.Trace, upTo) {
		out = append(out, Result{Says: r.Says, Check: r.Check, Seen: r.Seen, Pass: r.Pass, Pending: r.Pending})
	}
	return out
}
