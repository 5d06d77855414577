package svg

import (
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/ikesim/ikesim/render/layout"
)

// Text is drawn as the outlines of the Go fonts' glyphs, so that the SVG looks the same
// in every renderer, whether or not it has the font and whether or not it reads CSS
// @font-face (rsvg-convert and Inkscape do not): each glyph used is a path in <defs>,
// in font units, and each text a group scaled to its size that places the glyphs with
// <use>. The widths the layout measured are then the widths drawn.

// glyphSet collects the glyph outlines a document uses.
type glyphSet struct {
	buf    sfnt.Buffer
	prefix string
	ascii  [2][128]glyph      // what each ASCII rune draws, once made
	ids    map[glyphKey]glyph // what each other rune draws
	defs   []byte
}

type glyphKey struct {
	bold bool
	r    rune
}

// glyph is a rune's outline: its id in <defs> ("" when it draws nothing) and its
// advance in font units.
type glyph struct {
	id   string
	adv  float64
	made bool
}

// unitsPerEm of the Go fonts; glyph paths and advances are in these units.
const unitsPerEm = 2048

func newGlyphSet(prefix string) *glyphSet {
	return &glyphSet{ids: map[glyphKey]glyph{}, prefix: "ikg-" + prefix}
}

// glyph returns the id of rune r's outline, making it on first use, and its advance in
// font units.
func (g *glyphSet) glyph(r rune, bold bool) (id string, adv float64) {
	if r >= 0 && r < 128 {
		b := 0
		if bold {
			b = 1
		}
		gl := &g.ascii[b][r]
		if !gl.made {
			gl.id, gl.adv = g.make(r, bold)
			gl.made = true
		}
		return gl.id, gl.adv
	}
	k := glyphKey{bold, r}
	if gl, ok := g.ids[k]; ok {
		return gl.id, gl.adv
	}
	id, adv = g.make(r, bold)
	g.ids[k] = glyph{id: id, adv: adv, made: true}
	return id, adv
}

// make makes rune r's outline, or finds the one it draws as.
func (g *glyphSet) make(r rune, bold bool) (id string, adv float64) {
	f := layout.Font(bold)
	if r == '-' {
		return g.hyphen(bold), layout.HyphenAdvance * unitsPerEm
	}
	gi, err := f.GlyphIndex(&g.buf, r)
	if err != nil || gi == 0 {
		return g.glyph('?', bold) // what the layout measured for a glyph the font lacks
	}
	a, err := f.GlyphAdvance(&g.buf, gi, fixed.I(unitsPerEm), font.HintingNone)
	if err == nil {
		adv = float64(a) / 64
	}
	segs, err := f.LoadGlyph(&g.buf, gi, fixed.I(unitsPerEm), nil)
	if err != nil || len(segs) == 0 {
		return "", adv
	}
	id = g.newID(bold, r)
	g.defs = append(g.defs, `<path id="`...)
	g.defs = append(g.defs, id...)
	g.defs = append(g.defs, `" d="`...)
	for i, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			if i > 0 {
				g.defs = append(g.defs, 'Z')
			}
			g.defs = append(g.defs, 'M')
			g.defs = g.points(s.Args[:1])
		case sfnt.SegmentOpLineTo:
			g.defs = append(g.defs, 'L')
			g.defs = g.points(s.Args[:1])
		case sfnt.SegmentOpQuadTo:
			g.defs = append(g.defs, 'Q')
			g.defs = g.points(s.Args[:2])
		case sfnt.SegmentOpCubeTo:
			g.defs = append(g.defs, 'C')
			g.defs = g.points(s.Args[:3])
		}
	}
	g.defs = append(g.defs, "Z\"/>\n"...)
	return id, adv
}

// hyphen is the hyphen every front end draws (layout.Hyphen...).
func (g *glyphSet) hyphen(bold bool) string {
	id := g.newID(bold, '-')
	u := func(v float64) string { return strconv.FormatFloat(v*unitsPerEm, 'f', 0, 64) }
	h := layout.HyphenH
	if bold {
		h *= 1.3
	}
	g.defs = append(g.defs, `<path id="`+id+`" d="M`+u(layout.HyphenX)+` `+u(layout.HyphenTop)+`h`+u(layout.HyphenW)+`v`+u(h)+`h-`+u(layout.HyphenW)+`Z"/>`+"\n"...)
	return id
}

func (g *glyphSet) newID(bold bool, r rune) string {
	p := "r"
	if bold {
		p = "b"
	}
	return g.prefix + p + strconv.FormatInt(int64(r), 36)
}

// points writes the points of a segment, in font units.
func (g *glyphSet) points(ps []fixed.Point26_6) []byte {
	b := g.defs
	for i, p := range ps {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendUnits(b, p.X)
		b = append(b, ' ')
		b = appendUnits(b, p.Y)
	}
	return b
}

// appendUnits writes a 26.6 value in font units, to a tenth.
func appendUnits(b []byte, v fixed.Int26_6) []byte {
	return strconv.AppendFloat(b, float64(v)/64, 'f', -1, 32)
}
