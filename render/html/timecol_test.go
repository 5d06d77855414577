package html

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPlayerTimeColumnStays opens lab-hub-spoke's player, a diagram wider than the
// window at 1280x720, scrolls it all the way right and checks that the times of the rows
// in sight are still drawn at the diagram's left edge, readable; scrolled back, they
// return to their place. A screenshot is kept as a test artifact.
func TestPlayerTimeColumnStays(t *testing.T) {
	file := playerPage(t, "lab-hub-spoke")
	ctx := browser(t, 1280, 720)
	do(t, ctx, chromedp.EmulateViewport(1280, 720))
	do(t, ctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS("#rows svg g.msg")))
	if w := eval[float64](t, ctx, `(function(){ var d = document.getElementById('diagram'); return d.scrollWidth - d.clientWidth; })()`); w < 200 {
		t.Fatalf("the diagram is only %.0f px wider than its pane: not a wide diagram", w)
	}
	// The times of the rows in sight: how many, and how many lie in the pane's first
	// 110 px, wholly visible.
	const times = `(function(){
  var d = document.getElementById('diagram').getBoundingClientRect(), top = d.top + document.getElementById('lanes').offsetHeight;
  var seen = 0, left = 0;
  document.querySelectorAll('#rows g.time').forEach(function (g) {
    var r = g.getBoundingClientRect();
    if (r.height === 0 || r.top < top || r.bottom > d.bottom) return;
    seen++;
    if (r.left >= d.left - 1 && r.right <= d.left + 110) left++;
  });
  return [seen, left];
})()`
	scroll := func(x string) {
		do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('diagram').scrollLeft = `+x), chromedp.Sleep(150*time.Millisecond))
	}
	scroll("0")
	if v := eval[[]int](t, ctx, times); v[0] == 0 || v[1] != v[0] {
		t.Fatalf("unscrolled, %d of %d times in sight sit at the left edge", v[1], v[0])
	}
	scroll("1e9")
	if x := eval[float64](t, ctx, `document.getElementById('diagram').scrollLeft`); x < 200 {
		t.Fatalf("the diagram scrolled %.0f px sideways only", x)
	}
	if v := eval[[]int](t, ctx, times); v[0] == 0 || v[1] != v[0] {
		t.Errorf("scrolled to the right, %d of %d times in sight stay at the left edge", v[1], v[0])
	}
	// What is drawn at a time's place is the time itself, not a row's box over it.
	if !eval[bool](t, ctx, `(function(){ var g = [...document.querySelectorAll('#rows g.time')].find(function (g) {
  var r = g.getBoundingClientRect(); return r.top > 200 && r.bottom < innerHeight - 20; });
  if (!g) return false; var r = g.getBoundingClientRect();
  var hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return !!hit && !!hit.closest('g.time'); })()`) {
		t.Errorf("scrolled to the right, a time is covered by what is drawn over it")
	}
	shoot(t, ctx, "player-1280x720-scrolled-right")
	scroll("0")
	if v := eval[[]int](t, ctx, times); v[1] != v[0] {
		t.Errorf("scrolled back, %d of %d times in sight sit at the left edge", v[1], v[0])
	}
}
