// Package svg draws a sequence diagram as SVG, written by hand from the layout of
// render/layout: each message is a group with an id ("m<step>"), a data-step attribute
// and a <title> holding its summary, so that a page can make it clickable.
//
// It imports render and render/layout; it must not import the protocol packages, sim's
// engines or any UI package.
package svg

import (
	"bufio"
	"encoding/base64"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/layout"
)

// Options shape the SVG.
type Options struct {
	layout.Options
	// EmbedFont writes each text as a <text> element in the Go fonts, embedded as
	// @font-face rules (about 400 kB): text a browser can select and search. Renderers
	// that ignore @font-face (rsvg-convert, Inkscape) then draw another font, wider or
	// narrower than the layout measured. Without it every text is drawn as the outlines
	// of its glyphs (glyphs.go), the same in every renderer.
	EmbedFont bool
	// Fragment leaves out the XML declaration, for an SVG inside an HTML page.
	Fragment bool
	// Class is the class of the <svg> element.
	Class string
	// GlyphPrefix starts the ids of the glyph outlines, so that two SVGs in one page
	// keep their ids apart.
	GlyphPrefix string
}

// FontFamily is the font the SVG asks for: the Go font, under the name the embedded
// @font-face gives it.
const FontFamily = "ikesim-go, 'Go', 'DejaVu Sans', Verdana, sans-serif"

// Write lays out diagram d and writes it as one SVG document.
func Write(w io.Writer, d *render.Diagram, o Options) error {
	l := layout.New(d, o.Options)
	return WriteScene(w, l.Page(0, len(l.Rows)), o)
}

// FontFaces returns the CSS @font-face rules that embed the Go fonts.
func FontFaces() string {
	var b []byte
	for i, ttf := range [][]byte{layout.RegularTTF, layout.BoldTTF} {
		weight := "normal"
		if i == 1 {
			weight = "bold"
		}
		b = append(b, "@font-face{font-family:ikesim-go;font-weight:"...)
		b = append(b, weight...)
		b = append(b, ";src:url(data:font/ttf;base64,"...)
		b = base64.StdEncoding.AppendEncode(b, ttf)
		b = append(b, ") format('truetype')}\n"...)
	}
	return string(b)
}

// style is the SVG's own style sheet: fonts, and the hover and selection marks the web
// view uses.
const style = `text{font-family:` + FontFamily + `;white-space:pre}
.msg{cursor:pointer}
.msg:hover .hit{fill-opacity:.06}
.msg.sel .hit{fill:#3182ce;fill-opacity:.16}
`

// WriteScene writes one scene as SVG.
func WriteScene(w io.Writer, s *layout.Scene, o Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	e := &enc{w: bw}
	if !o.EmbedFont {
		e.glyphs = newGlyphSet(o.GlyphPrefix)
		for _, it := range s.Items {
			e.collect(it)
		}
	}
	if !o.Fragment {
		e.s(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	}
	e.s(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="`)
	e.f(s.W)
	e.s(`" height="`)
	e.f(s.H)
	e.s(`" viewBox="0 0 `)
	e.f(s.W)
	e.s(" ")
	e.f(s.H)
	e.s(`"`)
	if o.Class != "" {
		e.s(` class="`)
		e.esc(o.Class)
		e.s(`"`)
	}
	e.s(">\n")
	if s.Title != "" || o.Title != "" {
		t := s.Title
		if t == "" {
			t = o.Title
		}
		e.s("<title>")
		e.esc(t)
		e.s("</title>\n")
	}
	e.s("<style>\n")
	if o.EmbedFont {
		e.s(FontFaces())
	}
	e.s(style)
	e.s("</style>\n")
	if e.glyphs != nil && len(e.glyphs.defs) > 0 {
		e.s("<defs>\n")
		e.w.Write(e.glyphs.defs)
		e.s("</defs>\n")
	}
	for _, it := range s.Items {
		e.shape(it)
	}
	e.s("</svg>\n")
	return bw.Flush()
}

// enc writes SVG elements; number formatting and escaping avoid fmt for speed.
type enc struct {
	w      *bufio.Writer
	glyphs *glyphSet // draw texts as glyph outlines (nil: as <text>)
	buf    []byte
}

// collect makes the outlines of every glyph the shape's texts use.
func (e *enc) collect(sh layout.Shape) {
	switch v := sh.(type) {
	case *layout.Group:
		for _, it := range v.Items {
			e.collect(it)
		}
	case *layout.Text:
		for _, r := range v.S {
			if r != ' ' {
				e.glyphs.glyph(r, v.Bold)
			}
		}
	}
}

// outline draws a text as its glyphs: a group at the text's left end of the baseline,
// scaled from font units to the text's size, that places each glyph's outline.
func (e *enc) outline(v *layout.Text) {
	e.s(`<g class="t`)
	if v.Class != "" {
		e.s(" ")
		e.esc(v.Class)
	}
	e.s(`"`)
	e.sattr("aria-label", v.S)
	if v.Fill != "" {
		e.s(` fill="`)
		e.s(v.Fill)
		e.s(`"`)
	}
	e.s(` transform="translate(`)
	e.f(v.Left())
	e.s(",")
	e.f(v.Y)
	e.s(") scale(")
	e.buf = strconv.AppendFloat(e.buf[:0], v.Size/unitsPerEm, 'g', 6, 64)
	e.w.Write(e.buf)
	e.s(`)">`)
	x := 0.0
	for _, r := range v.S {
		id, adv := e.glyphs.glyph(r, v.Bold)
		if id != "" && r != ' ' {
			e.s(`<use xlink:href="#`)
			e.s(id)
			e.s(`"`)
			if x != 0 {
				e.s(` x="`)
				e.buf = strconv.AppendInt(e.buf[:0], int64(x+0.5), 10)
				e.w.Write(e.buf)
				e.s(`"`)
			}
			e.s("/>")
		}
		x += adv
	}
	e.s("</g>\n")
}

func (e *enc) s(s string) { e.w.WriteString(s) }

// f writes a number with at most two decimals.
func (e *enc) f(v float64) {
	e.buf = strconv.AppendFloat(e.buf[:0], v, 'f', 2, 64)
	b := e.buf
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	if len(b) == 2 && b[0] == '-' && b[1] == '0' {
		b = b[1:]
	}
	e.w.Write(b)
}

func (e *enc) attr(name string, v float64) {
	e.w.WriteByte(' ')
	e.s(name)
	e.s(`="`)
	e.f(v)
	e.w.WriteByte('"')
}

func (e *enc) sattr(name, v string) {
	e.w.WriteByte(' ')
	e.s(name)
	e.s(`="`)
	e.esc(v)
	e.w.WriteByte('"')
}

// esc writes s escaped for XML text and attributes. Characters XML 1.0 forbids
// (most control characters, broken UTF-8) become U+FFFD.
func (e *enc) esc(s string) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x80 && c != '&' && c != '<' && c != '>' && c != '"' && c != '\'' {
			i++
			continue
		}
		r, n := rune(c), 1
		if c >= 0x80 {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		var rep string
		switch {
		case r == '&':
			rep = "&amp;"
		case r == '<':
			rep = "&lt;"
		case r == '>':
			rep = "&gt;"
		case r == '"':
			rep = "&quot;"
		case r == '\'':
			rep = "&#39;"
		case r == '\t' || r == '\n' || r == '\r':
			rep = " "
		case r < 0x20 || r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF:
			rep = "\uFFFD"
		default:
			i += n
			continue
		}
		e.s(s[last:i])
		e.s(rep)
		i += n
		last = i
	}
	e.s(s[last:])
}

func (e *enc) style(st layout.Style) {
	if st.Fill != "" {
		e.s(` fill="`)
		e.s(st.Fill)
		e.s(`"`)
		if st.FillOpacity > 0 && st.FillOpacity < 1 {
			e.attr("fill-opacity", st.FillOpacity)
		}
	} else {
		e.s(` fill="none"`)
	}
	if st.Stroke != "" {
		e.s(` stroke="`)
		e.s(st.Stroke)
		e.s(`"`)
		if st.Width > 0 && st.Width != 1 {
			e.attr("stroke-width", st.Width)
		}
		if st.Dash > 0 {
			e.attr("stroke-dasharray", st.Dash)
		}
	}
}

func (e *enc) shape(sh layout.Shape) {
	switch v := sh.(type) {
	case *layout.Group:
		if len(v.Items) == 0 && v.ID == "" {
			return // a row that draws nothing (a compact layout's SA row)
		}
		e.s("<g")
		if v.ID != "" {
			e.sattr("id", v.ID)
		}
		if v.Class != "" {
			e.sattr("class", v.Class)
		}
		if v.Step != 0 {
			e.s(` data-step="`)
			e.w.WriteString(strconv.Itoa(v.Step))
			e.s(`"`)
		}
		if v.Y != 0 {
			e.s(` transform="translate(0,`)
			e.f(v.Y)
			e.s(`)"`)
		}
		e.s(">")
		if v.Title != "" {
			e.s("<title>")
			e.esc(v.Title)
			e.s("</title>")
		}
		e.s("\n")
		for _, it := range v.Items {
			e.shape(it)
		}
		e.s("</g>\n")
	case *layout.Rect:
		e.s("<rect")
		if v.Hit {
			e.s(` class="hit"`)
		}
		if v.X != 0 {
			e.attr("x", v.X)
		}
		if v.Y != 0 {
			e.attr("y", v.Y)
		}
		e.attr("width", v.W)
		e.attr("height", v.H)
		if v.R > 0 {
			e.attr("rx", v.R)
		}
		if v.Hit {
			e.s(` fill="#000" fill-opacity="0"`)
		} else {
			e.style(v.Style)
		}
		e.s("/>\n")
	case *layout.Line:
		e.s("<line")
		e.attr("x1", v.X1)
		e.attr("y1", v.Y1)
		e.attr("x2", v.X2)
		e.attr("y2", v.Y2)
		e.style(v.Style)
		e.s("/>\n")
	case *layout.Poly:
		e.s(`<polygon points="`)
		for i, p := range v.P {
			if i > 0 {
				if i%2 == 1 {
					e.w.WriteByte(',')
				} else {
					e.w.WriteByte(' ')
				}
			}
			e.f(p)
		}
		e.s(`"`)
		e.style(v.Style)
		e.s("/>\n")
	case *layout.Text:
		if e.glyphs != nil {
			e.outline(v)
			return
		}
		e.s("<text")
		if v.Class != "" {
			e.sattr("class", v.Class)
		}
		e.attr("x", v.X)
		e.attr("y", v.Y)
		e.attr("font-size", v.Size)
		if v.Bold {
			e.s(` font-weight="bold"`)
		}
		switch v.Anchor {
		case layout.Middle:
			e.s(` text-anchor="middle"`)
		case layout.End:
			e.s(` text-anchor="end"`)
		}
		if v.Fill != "" {
			e.s(` fill="`)
			e.s(v.Fill)
			e.s(`"`)
		}
		e.s(">")
		e.esc(v.S)
		e.s("</text>\n")
	}
}

func init() {
	render.Register(render.Format{View: "sequence", Name: "svg", Exts: []string{".svg"},
		Renderer: render.RenderFunc(func(in *render.Input, w io.Writer) ([]string, error) {
			return nil, Write(w, in.Diagram, Options{Options: layout.OptionsOf(in), EmbedFont: in.EmbedFont})
		})})
}
