package layout

import (
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
)

// The Go fonts: every front end draws text with them, so widths measured here are the
// widths drawn (the SVG writer can embed them; the PNG painter rasterises them).
var (
	RegularTTF = goregular.TTF
	BoldTTF    = gobold.TTF
)

var fonts = sync.OnceValue(func() [2]*opentype.Font {
	var fs [2]*opentype.Font
	for i, ttf := range [][]byte{RegularTTF, BoldTTF} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			panic("layout: the embedded Go font does not parse: " + err.Error())
		}
		fs[i] = f
	}
	return fs
})

// Font returns the parsed regular or bold Go font.
func Font(bold bool) *opentype.Font {
	if bold {
		return fonts()[1]
	}
	return fonts()[0]
}

// NewFace makes a face of the regular or bold Go font at size pixels, unhinted so that
// widths scale linearly with the size.
func NewFace(bold bool, size float64) font.Face {
	f, err := opentype.NewFace(Font(bold), &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		panic("layout: " + err.Error())
	}
	return f
}

// metrics measures text in one font at 1 pixel: advances of ASCII in a table, others
// in a map filled on first use. The Go fonts have no kerning, so a string's width is
// the sum of its advances.
type metrics struct {
	face    font.Face
	ascii   [128]float64
	mu      sync.Mutex
	other   map[rune]float64
	ascent  float64 // at 1 pixel
	descent float64
}

const unitSize = 100 // measure at 100 px and divide: precise in 26.6 fixed point

var metricsOf = sync.OnceValue(func() [2]*metrics {
	var ms [2]*metrics
	for i := range ms {
		m := &metrics{face: NewFace(i == 1, unitSize), other: map[rune]float64{}}
		for r := rune(0); r < 128; r++ {
			m.ascii[r] = m.advance(r)
		}
		fm := m.face.Metrics()
		m.ascent = float64(fm.Ascent) / 64 / unitSize
		m.descent = float64(fm.Descent) / 64 / unitSize
		ms[i] = m
	}
	return ms
})

// Hyphen is how every front end draws '-': the Go fonts' hyphen-minus is as wide as a
// minus sign, wider than their en dash, so that in running text a hyphen reads as a
// dash. A hyphen is a bar HyphenBar of the em, from HyphenX to HyphenX+HyphenW and from
// HyphenTop to HyphenTop+HyphenH (y down from the baseline), and advances HyphenAdvance.
const (
	HyphenAdvance = 700.0 / 2048
	HyphenX       = 120.0 / 2048
	HyphenW       = 460.0 / 2048
	HyphenTop     = -666.0 / 2048
	HyphenH       = 148.0 / 2048
)

func (m *metrics) advance(r rune) float64 {
	if r == '-' {
		return HyphenAdvance
	}
	a, ok := m.face.GlyphAdvance(r)
	if !ok {
		a, _ = m.face.GlyphAdvance('?') // what a missing glyph costs, roughly
	}
	return float64(a) / 64 / unitSize
}

func (m *metrics) width(s string) float64 {
	w := 0.0
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return w + m.slow(s[i:])
		}
		w += m.ascii[s[i]]
	}
	return w
}

func (m *metrics) slow(s string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := 0.0
	for _, r := range s {
		if r < 128 {
			w += m.ascii[r]
			continue
		}
		a, ok := m.other[r]
		if !ok {
			a = m.advance(r)
			m.other[r] = a
		}
		w += a
	}
	return w
}

// Width is the width of s in pixels at size px.
func Width(s string, size float64, bold bool) float64 {
	return metricsOf()[b2i(bold)].width(s) * size
}

// Ascent is the height above the baseline of the font at size px.
func Ascent(size float64) float64 { return metricsOf()[0].ascent * size }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Wrap breaks s into lines no wider than maxW at size px, at spaces where it can and
// inside a word only when the word alone is too wide.
func Wrap(s string, size float64, bold bool, maxW float64) []string {
	m := metricsOf()[b2i(bold)]
	if m.width(s)*size <= maxW {
		return []string{s}
	}
	var lines []string
	var cur strings.Builder
	curW := 0.0
	space := m.width(" ") * size
	flush := func() {
		if cur.Len() > 0 {
			lines = append(lines, cur.String())
			cur.Reset()
			curW = 0
		}
	}
	for _, word := range strings.Fields(s) {
		ww := m.width(word) * size
		if cur.Len() > 0 && curW+space+ww <= maxW {
			cur.WriteByte(' ')
			cur.WriteString(word)
			curW += space + ww
			continue
		}
		flush()
		for ww > maxW { // a word wider than a line: cut it
			cut, w := 0, 0.0
			for i, r := range word {
				a := m.width(string(r)) * size
				if w+a > maxW && i > 0 {
					break
				}
				w += a
				cut = i + len(string(r))
			}
			lines = append(lines, word[:cut])
			word = word[cut:]
			ww = m.width(word) * size
		}
		cur.WriteString(word)
		curW = ww
	}
	flush()
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}
