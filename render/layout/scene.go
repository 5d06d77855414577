package layout

// A Scene is a drawing as a list of shapes, in painting order, in pixels with y
// growing downwards. The SVG writer and the PNG painter both draw scenes, so the two
// show the same layout.
type Scene struct {
	W, H  float64
	Title string // the document's title (SVG <title>)
	Items []Shape
}

// Shape is one of Rect, Line, Poly, Text and Group.
type Shape interface{ shape() }

// Style is how a shape is painted. Colours are "#rrggbb"; "" paints nothing.
type Style struct {
	Fill        string
	FillOpacity float64 // 0 means opaque; Hit shapes are invisible
	Stroke      string
	Width       float64
	Dash        float64 // dash and gap length; 0 draws a solid line
}

// Rect is a rectangle, with rounded corners of radius R.
type Rect struct {
	X, Y, W, H, R float64
	Style
	Hit bool // an invisible area that takes clicks (SVG only)
}

// Line is a straight line.
type Line struct {
	X1, Y1, X2, Y2 float64
	Style
}

// Poly is a closed polygon through the points P (x0, y0, x1, y1, ...).
type Poly struct {
	P []float64
	Style
}

// Anchor says which point of a text X names.
type Anchor int

const (
	Start Anchor = iota
	Middle
	End
)

// Text is one line of text; Y is its baseline. W is its width as measured, which
// front ends that cannot embed the font use to force it.
type Text struct {
	X, Y   float64
	S      string
	Size   float64
	Bold   bool
	Anchor Anchor
	Fill   string
	W      float64
	Class  string // for the web view: "time" marks a row's time
}

// Group gathers the shapes of one diagram row, translated by (0, Y). ID, Step and
// Title identify it for the web view: a message's group has id "m<step>".
type Group struct {
	ID    string
	Class string
	Step  int
	Title string
	Y     float64
	Items []Shape
}

func (*Rect) shape()  {}
func (*Line) shape()  {}
func (*Poly) shape()  {}
func (*Text) shape()  {}
func (*Group) shape() {}

// Left is the x where the text starts.
func (t *Text) Left() float64 {
	switch t.Anchor {
	case Middle:
		return t.X - t.W/2
	case End:
		return t.X - t.W
	}
	return t.X
}
