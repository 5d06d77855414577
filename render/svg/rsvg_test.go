package svg

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
	"github.com/ikesim/ikesim/render/layout"
)

// textBoxes are the boxes the layout measured for every text of a scene, in scene
// pixels: from the text's left end to its measured width, from the font's ascent above
// the baseline to its descent below.
func textBoxes(s *layout.Scene) []image.Rectangle {
	var out []image.Rectangle
	var walk func(sh layout.Shape, dy float64)
	walk = func(sh layout.Shape, dy float64) {
		switch v := sh.(type) {
		case *layout.Group:
			for _, it := range v.Items {
				walk(it, dy+v.Y)
			}
		case *layout.Text:
			x0, x1 := v.Left(), v.Left()+v.W
			y0, y1 := v.Y+dy-layout.Ascent(v.Size), v.Y+dy+0.3*v.Size
			out = append(out, image.Rect(int(x0), int(y0), int(x1+1), int(y1+1)))
		}
	}
	for _, it := range s.Items {
		walk(it, 0)
	}
	return out
}

var textGroup = regexp.MustCompile(`<g class="t[ "][^>]*>.*?</g>\n|<text[^>]*>.*?</text>\n`)

// rasterize converts an SVG document to a PNG image with rsvg-convert.
func rasterize(t *testing.T, rsvg, dir, name string, doc []byte) *image.RGBA {
	t.Helper()
	in, out := filepath.Join(dir, name+".svg"), filepath.Join(dir, name+".png")
	if err := os.WriteFile(in, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(rsvg, "-o", out, in).CombinedOutput(); err != nil {
		t.Fatalf("rsvg-convert: %v\n%s", err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	return rgba
}

// TestRsvgTextStaysInItsBox draws ikev2-ping's diagram, in full and as a figure, with
// rsvg-convert (Debian's librsvg2-bin, installed when missing), once as written and
// once with every text taken out. Every pixel the texts change must lie inside the box
// the layout measured for some text: text that spills out of its box, as another
// font's wider glyphs do, fails. Every text box must lie on the canvas, too.
func TestRsvgTextStaysInItsBox(t *testing.T) {
	rsvg := testenv.Tool(t, "rsvg-convert", "librsvg2-bin")
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		d    *render.Diagram
		o    layout.Options
	}{
		{"ikev2-ping", rendertest.Diagram(t, "ikev2-ping", render.Options{}), layout.Options{Title: "ikev2-ping (seed 1)", Notes: true}},
		{"ikev2-ping-figure", rendertest.Diagram(t, "ikev2-ping", render.Figure(rendertest.Trace(t, "ikev2-ping"), render.Options{})), layout.Figure("ikev2-ping (seed 1)")},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := layout.New(c.d, c.o)
			scene := l.Page(0, len(l.Rows))
			var doc bytes.Buffer
			if err := WriteScene(&doc, scene, Options{Options: c.o}); err != nil {
				t.Fatal(err)
			}
			bare := textGroup.ReplaceAll(doc.Bytes(), nil)
			if n := len(textGroup.FindAll(doc.Bytes(), -1)); n < 50 || len(textGroup.FindAll(bare, -1)) > 0 {
				t.Fatalf("%d texts, and taking them out leaves some", n)
			}
			with := rasterize(t, rsvg, dir, c.name, doc.Bytes())
			without := rasterize(t, rsvg, dir, c.name+"-bare", bare)
			canvas := with.Bounds()
			if without.Bounds() != canvas || math.Abs(float64(canvas.Dx())-scene.W) > 1 || math.Abs(float64(canvas.Dy())-scene.H) > 1 {
				t.Fatalf("rsvg drew %v and %v, want %.1fx%.1f", with.Bounds(), without.Bounds(), scene.W, scene.H)
			}
			boxes := textBoxes(scene)
			for _, b := range boxes {
				if !b.Inset(1).In(canvas) {
					t.Errorf("a text box %v lies outside the canvas %v", b, canvas)
				}
			}
			// A pixel's cell in a grid of 32x32, listing the boxes that touch it.
			const cell = 32
			grid := map[image.Point][]image.Rectangle{}
			for _, b := range boxes {
				b = b.Inset(-1) // anti-aliasing reaches a pixel further
				for y := b.Min.Y / cell; y <= b.Max.Y/cell; y++ {
					for x := b.Min.X / cell; x <= b.Max.X/cell; x++ {
						grid[image.Pt(x, y)] = append(grid[image.Pt(x, y)], b)
					}
				}
			}
			changed, outside := 0, 0
			var first image.Point
			for y := 0; y < canvas.Dy(); y++ {
				for x := 0; x < canvas.Dx(); x++ {
					if with.RGBAAt(x, y) == without.RGBAAt(x, y) {
						continue
					}
					changed++
					p := image.Pt(x, y)
					in := false
					for _, b := range grid[image.Pt(x/cell, y/cell)] {
						if p.In(b) {
							in = true
							break
						}
					}
					if !in {
						if outside == 0 {
							first = p
						}
						outside++
					}
				}
			}
			if changed < 10000 {
				t.Fatalf("the texts change only %d pixels: rsvg drew no text", changed)
			}
			if outside > 0 {
				t.Errorf("%d of %d text pixels lie outside every text's box, the first at %v", outside, changed, first)
			}
			t.Logf("%s: %d texts, %d text pixels, all inside their boxes: %v", c.name, len(boxes), changed, outside == 0)
		})
	}
}

// TestTextWithoutTextLength checks that no text relies on textLength: outlined text has
// no <text> at all, and the embedded-font variant gives no lengths either.
func TestTextWithoutTextLength(t *testing.T) {
	for _, embed := range []bool{false, true} {
		doc := render1(t, "ikev2-ping", Options{EmbedFont: embed})
		if bytes.Contains(doc, []byte("textLength")) {
			t.Errorf("EmbedFont %v: the SVG uses textLength", embed)
		}
		if has := bytes.Contains(doc, []byte("<text")); has != embed {
			t.Errorf("EmbedFont %v: <text> elements present: %v", embed, has)
		}
	}
}
