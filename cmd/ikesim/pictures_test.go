package main

// The pictures README.md shows, in docs/img, are made here from the built-in scenarios:
// the terminal walkthrough as an SVG of its screen, a figure for documents, and the web
// player as Chromium draws it. docs/pictures.sh remakes them (-update-pictures);
// without it TestREADMEPictures fails when one is out of date.

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gdamore/tcell/v2"

	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/html"
	"github.com/ikesim/ikesim/render/layout"
	"github.com/ikesim/ikesim/render/svg"
	"github.com/ikesim/ikesim/render/tui"
)

var updatePictures = flag.Bool("update-pictures", false, "remake the pictures in docs/img")

const picturesDir = "../../docs/img"

// pictureStep is the step the pictures show: ikev2-ping's IKE_AUTH request.
const pictureStep = 26

// screenSVG draws a terminal screen as SVG: one rectangle per run of a background
// colour, one text per run of a foreground colour, in a monospace font, on a dark
// terminal's colours.
func screenSVG(scr tcell.SimulationScreen) []byte {
	cells, w, h := scr.GetContents()
	const cw, ch, size = 8.4, 17.0, 14.0
	fgDefault, bgDefault := "#d4d4d4", "#1e1e1e"
	// The 16 colours of the terminal's palette, as a common dark theme shows them.
	palette := []string{"#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
		"#767676", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff"}
	hexOf := func(c tcell.Color, def string) string {
		if i := int(c - tcell.ColorValid); c&tcell.ColorIsRGB == 0 && i >= 0 && i < len(palette) {
			return palette[i]
		}
		if c == tcell.ColorDefault || c.Hex() < 0 {
			return def
		}
		return fmt.Sprintf("#%06x", c.Hex())
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">`+"\n", float64(w)*cw+16, float64(h)*ch+16, float64(w)*cw+16, float64(h)*ch+16)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" rx="6" fill="%s"/>`+"\n", bgDefault)
	fmt.Fprintf(&b, `<g transform="translate(8,8)" font-family="'DejaVu Sans Mono', 'Go Mono', Menlo, Consolas, monospace" font-size="%.0f" xml:space="preserve">`+"\n", size)
	type look struct {
		fg, bg string
		bold   bool
	}
	lookAt := func(c tcell.SimCell) look {
		fg, bg, attr := c.Style.Decompose()
		l := look{hexOf(fg, fgDefault), hexOf(bg, bgDefault), attr&tcell.AttrBold != 0}
		if attr&tcell.AttrReverse != 0 {
			l.fg, l.bg = l.bg, l.fg
		}
		return l
	}
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	for y := 0; y < h; y++ {
		for x := 0; x < w; {
			l := lookAt(cells[y*w+x])
			var run strings.Builder
			end := x
			for ; end < w && lookAt(cells[y*w+end]) == l; end++ {
				r := ' '
				if rs := cells[y*w+end].Runes; len(rs) > 0 {
					r = rs[0]
				}
				run.WriteRune(r)
			}
			if l.bg != bgDefault {
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="%s"/>`+"\n", float64(x)*cw, float64(y)*ch, float64(end-x)*cw, ch, l.bg)
			}
			if s := strings.TrimRight(run.String(), " "); s != "" {
				weight := ""
				if l.bold {
					weight = ` font-weight="bold"`
				}
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="%s"%s textLength="%.1f" lengthAdjust="spacingAndGlyphs">%s</text>`+"\n",
					float64(x)*cw, float64(y)*ch+ch*0.78, l.fg, weight, float64(len([]rune(s)))*cw, esc.Replace(s))
			}
			x = end
		}
	}
	b.WriteString("</g>\n</svg>\n")
	return b.Bytes()
}

// walkthroughPicture draws the terminal walkthrough of ikev2-ping at 120x36 at the
// IKE_AUTH request, its AUTH data selected, the detail area wide.
func walkthroughPicture(t *testing.T) []byte {
	r, err := simulate("ikev2-ping", &seedFlag{})
	if err != nil {
		t.Fatal(err)
	}
	u := tui.New(TUIConfig(r))
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		t.Fatal(err)
	}
	u.App().SetScreen(scr)
	scr.SetSize(120, 36)
	u.App().ForceDraw()
	if !u.Show(pictureStep, "Authentication Data") {
		t.Fatalf("step %d has no Authentication Data", pictureStep)
	}
	u.Wide(true)
	u.App().ForceDraw()
	u.App().ForceDraw() // the layout follows the screen's size on the first draw
	return screenSVG(scr)
}

// figurePicture is ikev2-ping's --figure as SVG.
func figurePicture(t *testing.T) []byte {
	in, err := load("ikev2-ping", &seedFlag{})
	if err != nil {
		t.Fatal(err)
	}
	d := render.Build(in.trace, render.Figure(in.trace, render.Options{}))
	var b bytes.Buffer
	if err := svg.Write(&b, d, svg.Options{Options: layout.Figure(in.title)}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// playerPicture is the web player of ikev2-ping in Chromium at 1280x720, at the IKE_AUTH
// request with its AUTH data selected.
func playerPicture(t *testing.T) []byte {
	chromium := testenv.Tool(t, "chromium", "chromium")
	in, err := load("ikev2-ping", &seedFlag{})
	if err != nil {
		t.Fatal(err)
	}
	d := render.Build(in.trace, render.Options{})
	var page bytes.Buffer
	if err := html.Write(&page, d, html.Options{Options: layout.Options{Title: in.title, Notes: true}, Trace: in.trace, Lab: in.lab}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "player.html")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.Flag("headless", true),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("hide-scrollbars", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	auth := `#p-tree li.dec .row[data-short="AUTH"]`
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 720),
		chromedp.Navigate(fmt.Sprintf("file://%s#step-%d", file, pictureStep)),
		chromedp.WaitVisible(chromedp.CSS("#rows svg g.msg")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('`+auth+`').parentNode.querySelector('.tog').click()`),
		chromedp.ScrollIntoView(chromedp.CSS(`#p-tree li.dec .row[data-name="Authentication Data"]`)),
		chromedp.Click(chromedp.CSS(`#p-tree li.dec .row[data-name="Authentication Data"]`)),
		chromedp.Sleep(200*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	return shot
}

// greyCells reduces a PNG to mean grey levels (0-15) of 16×16 cells: enough to see a
// pane move, robust to how one Chromium or another smooths its fonts.
func greyCells(t *testing.T, b []byte) (image.Rectangle, []int) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r := img.Bounds()
	var out []int
	for y := r.Min.Y; y < r.Max.Y; y += 16 {
		for x := r.Min.X; x < r.Max.X; x += 16 {
			sum, n := 0, 0
			for yy := y; yy < min(y+16, r.Max.Y); yy++ {
				for xx := x; xx < min(x+16, r.Max.X); xx++ {
					cr, cg, cb, _ := img.At(xx, yy).RGBA()
					sum += int(cr>>8)*299/1000 + int(cg>>8)*587/1000 + int(cb>>8)*114/1000
					n++
				}
			}
			out = append(out, sum/n/16)
		}
	}
	return r, out
}

// TestREADMEPictures makes the pictures README.md shows and compares them with
// docs/img: the two SVGs byte for byte, the player's screenshot by its grey levels
// (at most 3% of its 16×16 cells may differ by more than one level).
func TestREADMEPictures(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		file  string
		make  func(*testing.T) []byte
		exact bool
	}{
		{"walkthrough.svg", walkthroughPicture, true},
		{"figure.svg", figurePicture, true},
		{"player.png", playerPicture, false},
	} {
		t.Run(p.file, func(t *testing.T) {
			if !bytes.Contains(readme, []byte("docs/img/"+p.file)) {
				t.Errorf("README.md does not show docs/img/%s", p.file)
			}
			got := p.make(t)
			path := filepath.Join(picturesDir, p.file)
			if *updatePictures {
				if err := os.MkdirAll(picturesDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (docs/pictures.sh makes it)", err)
			}
			if p.exact {
				if !bytes.Equal(got, want) {
					t.Errorf("docs/img/%s is out of date: run docs/pictures.sh", p.file)
				}
				return
			}
			gr, g := greyCells(t, got)
			wr, w := greyCells(t, want)
			if gr != wr {
				t.Fatalf("docs/img/%s is %v, the page draws %v: run docs/pictures.sh", p.file, wr, gr)
			}
			off := 0
			for i := range g {
				if g[i] > w[i]+1 || w[i] > g[i]+1 {
					off++
				}
			}
			if off*100 > 3*len(g) {
				t.Errorf("docs/img/%s is out of date (%d of %d cells differ): run docs/pictures.sh", p.file, off, len(g))
			}
		})
	}
}
