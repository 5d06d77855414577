package render

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ikesim/ikesim/sim/trace"
)

// The formats of ikesim render. Each front end registers itself (in its package's init)
// for the views it draws; the command line looks a format up and calls it. Adding a
// format is one new package that registers one Renderer.

// Renderer draws one view of a run in one format.
type Renderer interface {
	// Render writes the drawing of in to w. A format that writes files of its own
	// (PNG pages, named after in.Out) returns their names instead.
	Render(in *Input, w io.Writer) (files []string, err error)
}

// RenderFunc is a Renderer as a function.
type RenderFunc func(in *Input, w io.Writer) ([]string, error)

// Render calls f.
func (f RenderFunc) Render(in *Input, w io.Writer) ([]string, error) { return f(in, w) }

// Input is what a renderer draws, and how.
type Input struct {
	Diagram *Diagram
	Title   string
	// Name names the network in the topology view: the scenario's name ("": Title).
	Name string
	// Out is the file the drawing goes to ("" or "-": standard output).
	Out string
	// Notes draws the notes column beside a sequence diagram.
	Notes bool
	// Figure draws a figure for a document: the message flow on one page with a
	// legend (the diagram is built with Figure's options).
	Figure bool
	// Trace is the run the diagram was built from, for formats that show more than
	// the diagram (the web player's event list, nodes and links; the topology view).
	Trace *trace.Trace
	// Lab is a scenario's lab, for the web player.
	Lab *Lab
	// EmbedFont puts the fonts into an SVG.
	EmbedFont bool
	// Scale and PageHeight size PNG pages: device pixels per layout pixel, and the
	// most rows one page holds, in layout pixels.
	Scale, PageHeight float64
	// Node is the node whose state machines the states view draws ("": the first
	// node with state changes).
	Node string
	// LayoutDOT lays out a graph view's DOT as SVG (ikesim-graph does, in its own
	// process; see cmd/ikesim).
	LayoutDOT func(dot []byte, w io.Writer) error
}

// Lab is what a lab pane shows: the description, the hint and the solution (revealed
// on request), and the expectations graded as of each step.
type Lab struct {
	Description, Hint, Solution string
	// Grade grades the expectations against the trace up to and including the event
	// with sequence number upTo; nil when there is nothing to grade.
	Grade func(upTo int) []LabResult
}

// LabResult is one expectation graded.
type LabResult struct {
	Says, Check, Seen string
	Pass              bool
	// Pending says that the run so far cannot decide the check yet.
	Pending bool
}

// Format is one registered format of one view.
type Format struct {
	View string   // sequence, topology, states
	Name string   // svg, png, html, ...
	Exts []string // file extensions that choose it: ".svg"
	// NeedsFile says that the format writes files of its own and needs Input.Out.
	NeedsFile bool
	Renderer
}

var (
	regMu   sync.RWMutex
	formats = map[[2]string]*Format{} // view, name
)

// Register makes a format of a view available. Registering a view and name twice is a
// programming error.
func Register(f Format) {
	regMu.Lock()
	defer regMu.Unlock()
	k := [2]string{f.View, f.Name}
	if formats[k] != nil {
		panic(fmt.Sprintf("render: format %s of view %s registered twice", f.Name, f.View))
	}
	formats[k] = &f
}

// Lookup finds the format name of a view; the error names what there is.
func Lookup(view, name string) (*Format, error) {
	regMu.RLock()
	defer regMu.RUnlock()
	if f := formats[[2]string{view, name}]; f != nil {
		return f, nil
	}
	views, names := viewsLocked(), formatsOfLocked(view)
	switch {
	case !slices.Contains(views, view):
		return nil, fmt.Errorf("render: unknown view %q (%s)", view, strings.Join(views, ", "))
	case !slices.Contains(allNames(), name):
		return nil, fmt.Errorf("render: unknown format %q (%s)", name, strings.Join(allNames(), ", "))
	}
	list := strings.Join(names, ", ")
	if i := strings.LastIndex(list, ", "); i >= 0 {
		list = list[:i] + " or " + list[i+2:]
	}
	return nil, fmt.Errorf("render: the %s view draws as %s, not %s", view, list, name)
}

// FormatOfExt names the format that a file extension (".svg") chooses, or "".
func FormatOfExt(ext string) string {
	regMu.RLock()
	defer regMu.RUnlock()
	ext = strings.ToLower(ext)
	for _, f := range formats {
		if slices.Contains(f.Exts, ext) {
			return f.Name
		}
	}
	return ""
}

// Views lists the registered views.
func Views() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	return viewsLocked()
}

// Names lists every registered format, of any view.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	return allNames()
}

// Exts lists, sorted, the file extensions that choose a format.
func Exts() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var out []string
	for _, f := range formats {
		for _, e := range f.Exts {
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	sort.Strings(out)
	return out
}

// FormatsOf lists the formats a view draws as.
func FormatsOf(view string) []string {
	regMu.RLock()
	defer regMu.RUnlock()
	return formatsOfLocked(view)
}

func viewsLocked() []string { return registered(0, func([2]string) bool { return true }) }

func formatsOfLocked(view string) []string {
	return registered(1, func(k [2]string) bool { return k[0] == view })
}

func allNames() []string { return registered(1, func([2]string) bool { return true }) }

// registered lists, sorted and once each, part i (0: view, 1: name) of the registered
// formats that keep accepts.
func registered(i int, keep func([2]string) bool) []string {
	var out []string
	for k := range formats {
		if keep(k) && !slices.Contains(out, k[i]) {
			out = append(out, k[i])
		}
	}
	sort.Strings(out)
	return out
}

// InputError is an error in what the user asked a renderer for, such as a node that is
// not in the trace; the command line reports it as a usage error.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// InputErrorf makes an InputError.
func InputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}
