// Package png draws a sequence diagram as PNG pages, in pure Go: shapes with gg, text
// with the Go fonts through x/image's opentype, from the same layout as the SVG. A long
// diagram is split into pages, each with the lane names at its top.
//
// It imports render and render/layout; it must not import the protocol packages or any
// UI package.
package png

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"git.sr.ht/~sbinet/gg"
	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/layout"
)

// Options shape the pages.
type Options struct {
	layout.Options
	Scale      float64 // device pixels per layout pixel; 0 means 2
	PageHeight float64 // the most rows one page holds, in layout pixels; 0 means 2400
}

func (o Options) scale() float64 {
	if o.Scale <= 0 {
		return 2
	}
	return o.Scale
}

// Pages lays out diagram d and calls page for each page's image, in order.
func Pages(d *render.Diagram, o Options, page func(i, n int, img *image.RGBA) error) error {
	l := layout.New(d, o.Options)
	ph := o.PageHeight
	if ph <= 0 {
		ph = 2400
	}
	ranges := l.Pages(ph)
	p := newPainter(o.scale())
	for i, r := range ranges {
		sc := l.Page(r[0], r[1])
		if len(ranges) > 1 {
			t := fmt.Sprintf("page %d of %d", i+1, len(ranges))
			sc.Items = append(sc.Items, &layout.Text{X: sc.W - 16, Y: 24, S: t, Size: 11, Anchor: layout.End, Fill: "#4a5568", W: layout.Width(t, 11, false)})
		}
		if err := page(i, len(ranges), p.paint(sc)); err != nil {
			return err
		}
	}
	return nil
}

// PageName is the file name of page i of n: the name itself for the first page, then
// "name-2.png", "name-3.png" and so on.
func PageName(name string, i int) string {
	if i == 0 {
		return name
	}
	ext := filepath.Ext(name)
	return strings.TrimSuffix(name, ext) + "-" + strconv.Itoa(i+1) + ext
}

// WriteFiles writes the pages of diagram d to name and the names PageName gives, and
// returns the files it wrote.
func WriteFiles(name string, d *render.Diagram, o Options) ([]string, error) {
	var files []string
	err := Pages(d, o, func(i, n int, img *image.RGBA) error {
		f, err := os.Create(PageName(name, i))
		if err != nil {
			return err
		}
		files = append(files, f.Name())
		if err := Encode(f, img); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
	return files, err
}

// Encode writes one page as PNG.
func Encode(w io.Writer, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(w, img); err != nil {
		return fmt.Errorf("png: %v", err)
	}
	return nil
}

// Paint draws one scene at scale device pixels per layout pixel.
func Paint(s *layout.Scene, scale float64) *image.RGBA { return newPainter(scale).paint(s) }

type faceKey struct {
	size float64
	bold bool
}

// painter draws scenes; it keeps the font faces it made (faces are not safe for
// concurrent use, so neither is a painter).
type painter struct {
	k     float64
	faces map[faceKey]font.Face
	cols  map[string]color.RGBA
}

func newPainter(scale float64) *painter {
	return &painter{k: scale, faces: map[faceKey]font.Face{}, cols: map[string]color.RGBA{}}
}

func (p *painter) paint(s *layout.Scene) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, int(s.W*p.k+0.5), int(s.H*p.k+0.5)))
	dc := gg.NewContextForRGBA(img)
	dc.SetLineCapButt()
	for _, it := range s.Items {
		p.shape(dc, img, it, 0)
	}
	return img
}

func (p *painter) color(hex string, opacity float64) color.RGBA {
	c, ok := p.cols[hex]
	if !ok {
		if len(hex) == 7 && hex[0] == '#' {
			v, _ := strconv.ParseUint(hex[1:], 16, 32)
			c = color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
		} else {
			c = color.RGBA{0, 0, 0, 255}
		}
		p.cols[hex] = c
	}
	if opacity > 0 && opacity < 1 {
		a := opacity
		c = color.RGBA{uint8(float64(c.R) * a), uint8(float64(c.G) * a), uint8(float64(c.B) * a), uint8(255 * a)}
	}
	return c
}

// fillStroke fills and strokes the current path as st says.
func (p *painter) fillStroke(dc *gg.Context, st layout.Style) {
	if st.Fill != "" {
		dc.SetColor(p.color(st.Fill, st.FillOpacity))
		if st.Stroke != "" {
			dc.FillPreserve()
		} else {
			dc.Fill()
		}
	}
	if st.Stroke != "" {
		p.stroke(dc, st)
	}
	dc.ClearPath()
}

func (p *painter) stroke(dc *gg.Context, st layout.Style) {
	dc.SetColor(p.color(st.Stroke, 0))
	w := st.Width
	if w == 0 {
		w = 1
	}
	dc.SetLineWidth(w * p.k)
	if st.Dash > 0 {
		dc.SetDash(st.Dash*p.k, st.Dash*p.k)
	}
	dc.Stroke()
	if st.Dash > 0 {
		dc.SetDash()
	}
}

func (p *painter) shape(dc *gg.Context, img *image.RGBA, sh layout.Shape, dy float64) {
	k := p.k
	switch v := sh.(type) {
	case *layout.Group:
		for _, it := range v.Items {
			p.shape(dc, img, it, dy+v.Y)
		}
	case *layout.Rect:
		if v.Hit {
			return
		}
		if v.R == 0 && v.Stroke == "" && v.Fill != "" && (v.FillOpacity == 0 || v.FillOpacity >= 1) {
			// A plain filled rectangle (the page, a lane's bar): no rasteriser needed.
			r := image.Rect(int(v.X*k+0.5), int((v.Y+dy)*k+0.5), int((v.X+v.W)*k+0.5), int((v.Y+dy+v.H)*k+0.5))
			draw.Draw(img, r, image.NewUniform(p.color(v.Fill, 0)), image.Point{}, draw.Src)
			return
		}
		if v.R > 0 {
			dc.DrawRoundedRectangle(v.X*k, (v.Y+dy)*k, v.W*k, v.H*k, v.R*k)
		} else {
			dc.DrawRectangle(v.X*k, (v.Y+dy)*k, v.W*k, v.H*k)
		}
		p.fillStroke(dc, v.Style)
	case *layout.Line:
		dc.DrawLine(v.X1*k, (v.Y1+dy)*k, v.X2*k, (v.Y2+dy)*k)
		p.stroke(dc, v.Style)
		dc.ClearPath()
	case *layout.Poly:
		for i := 0; i+1 < len(v.P); i += 2 {
			if i == 0 {
				dc.MoveTo(v.P[i]*k, (v.P[i+1]+dy)*k)
			} else {
				dc.LineTo(v.P[i]*k, (v.P[i+1]+dy)*k)
			}
		}
		dc.ClosePath()
		p.fillStroke(dc, v.Style)
	case *layout.Text:
		fk := faceKey{v.Size * k, v.Bold}
		f, ok := p.faces[fk]
		if !ok {
			f = layout.NewFace(v.Bold, fk.size)
			p.faces[fk] = f
		}
		col := p.color(v.Fill, 0)
		d := font.Drawer{Dst: img, Src: image.NewUniform(col), Face: f,
			Dot: fixed.Point26_6{X: fixed.Int26_6(v.Left() * k * 64), Y: fixed.Int26_6((v.Y + dy) * k * 64)}}
		// A hyphen is drawn as layout.Hyphen says, not as the font's minus-wide glyph.
		for s, rest, hyphen := strings.Cut(v.S, "-"); ; s, rest, hyphen = strings.Cut(rest, "-") {
			d.DrawString(s)
			if !hyphen {
				break
			}
			em := fk.size
			x, y := float64(d.Dot.X)/64, float64(d.Dot.Y)/64
			h := layout.HyphenH
			if v.Bold {
				h *= 1.3
			}
			dc.DrawRectangle(x+layout.HyphenX*em, y+layout.HyphenTop*em, layout.HyphenW*em, h*em)
			dc.SetColor(col)
			dc.Fill()
			d.Dot.X += fixed.Int26_6(layout.HyphenAdvance * em * 64)
		}
	}
}

func init() {
	render.Register(render.Format{View: "sequence", Name: "png", Exts: []string{".png"}, NeedsFile: true,
		Renderer: render.RenderFunc(func(in *render.Input, _ io.Writer) ([]string, error) {
			return WriteFiles(in.Out, in.Diagram, Options{Options: layout.OptionsOf(in), Scale: in.Scale, PageHeight: in.PageHeight})
		})})
}
