package png

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
	"github.com/ikesim/ikesim/render/layout"
)

const thumbCell = 16 // layout pixels per thumbnail cell

// thumbnail reduces a page to its size and a grid of mean grey levels, 0-f, one cell
// per 16×16 pixels at scale 1: enough to see a box move, robust to anti-aliasing.
func thumbnail(img *image.RGBA) []string {
	b := img.Bounds()
	out := []string{fmt.Sprintf("%dx%d", b.Dx(), b.Dy())}
	for y := 0; y < b.Dy(); y += thumbCell {
		var line strings.Builder
		for x := 0; x < b.Dx(); x += thumbCell {
			sum, n := 0, 0
			for yy := y; yy < min(y+thumbCell, b.Dy()); yy++ {
				for xx := x; xx < min(x+thumbCell, b.Dx()); xx++ {
					c := img.RGBAAt(xx, yy)
					sum += (int(c.R)*299 + int(c.G)*587 + int(c.B)*114) / 1000
					n++
				}
			}
			line.WriteByte("0123456789abcdef"[sum/n/16])
		}
		out = append(out, line.String())
	}
	return out
}

func pages(t testing.TB, name string, scale float64) []*image.RGBA {
	t.Helper()
	d := rendertest.Diagram(t, name, render.Options{})
	var imgs []*image.RGBA
	err := Pages(d, Options{Options: layout.Options{Title: rendertest.Title(t, name), Notes: true}, Scale: scale, PageHeight: 1600},
		func(i, n int, img *image.RGBA) error {
			imgs = append(imgs, img)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return imgs
}

// TestGolden paints every scenario at scale 1 and compares each page's size and
// thumbnail with testdata/<name>.png.golden (go test -update rewrites them). Up to 1%
// of the cells may differ by one grey level, for rasteriser rounding.
func TestGolden(t *testing.T) {
	for _, name := range rendertest.Scenarios() {
		t.Run(name, func(t *testing.T) {
			var got []string
			for i, img := range pages(t, name, 1) {
				got = append(got, "page "+strconv.Itoa(i+1))
				got = append(got, thumbnail(img)...)
			}
			file := name + ".png.golden"
			if *rendertest.Update {
				rendertest.Golden(t, file, []byte(strings.Join(got, "\n")+"\n"))
				return
			}
			want := strings.Split(strings.TrimSuffix(string(readGolden(t, file)), "\n"), "\n")
			if len(got) != len(want) {
				t.Fatalf("%d thumbnail lines, want %d (pages or heights changed; go test -update if right)", len(got), len(want))
			}
			cells, off := 0, 0
			for i := range got {
				if len(got[i]) != len(want[i]) || strings.HasPrefix(want[i], "page") || strings.Contains(want[i], "x") {
					if got[i] != want[i] {
						t.Fatalf("line %d is %q, want %q", i+1, got[i], want[i])
					}
					continue
				}
				for j := range got[i] {
					cells++
					g, _ := strconv.ParseUint(got[i][j:j+1], 16, 8)
					w, _ := strconv.ParseUint(want[i][j:j+1], 16, 8)
					if g != w {
						off++
						if g > w+1 || w > g+1 {
							t.Fatalf("line %d column %d: grey %d, want %d (go test -update if right)", i+1, j+1, g, w)
						}
					}
				}
			}
			if off*100 > cells {
				t.Errorf("%d of %d cells differ", off, cells)
			}
		})
	}
}

func readGolden(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	return b
}

// TestPagesSplitAndEncode checks that ikev2-ping needs several pages at this height,
// that every page is as wide as the first and no taller than the limit allows, and
// that a page encodes to a PNG that decodes to the same size.
func TestPagesSplitAndEncode(t *testing.T) {
	imgs := pages(t, "ikev2-ping", 1.5)
	if len(imgs) < 3 {
		t.Fatalf("%d pages, want at least 3", len(imgs))
	}
	for i, img := range imgs {
		if img.Bounds().Dx() != imgs[0].Bounds().Dx() {
			t.Errorf("page %d is %d wide, page 1 %d", i+1, img.Bounds().Dx(), imgs[0].Bounds().Dx())
		}
		if h := float64(img.Bounds().Dy()) / 1.5; h > 1600+300 {
			t.Errorf("page %d is %.0f layout pixels high", i+1, h)
		}
	}
	var b bytes.Buffer
	if err := Encode(&b, imgs[0]); err != nil {
		t.Fatal(err)
	}
	dec, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if dec.Bounds() != imgs[0].Bounds() {
		t.Errorf("decoded %v, painted %v", dec.Bounds(), imgs[0].Bounds())
	}
	for i, want := range []string{"x.png", "x-2.png", "x-3.png"} {
		if got := PageName("x.png", i); got != want {
			t.Errorf("PageName(x.png, %d) = %s, want %s", i, got, want)
		}
	}
}

// BenchmarkPNG10k paints and encodes every page of the 10,000-message trace's
// diagram at scale 1 (BenchmarkSVG10k in render/svg draws the same trace as SVG).
func BenchmarkPNG10k(b *testing.B) {
	tr := rendertest.Big(b, 10000)
	b.ResetTimer()
	for b.Loop() {
		d := render.Build(tr, render.Options{})
		n := 0
		err := Pages(d, Options{Options: layout.Options{Title: "10k", Notes: true}, Scale: 1}, func(i, _ int, img *image.RGBA) error {
			n++
			return Encode(io.Discard, img)
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n), "pages")
	}
}
