// Package graphviz lays out DOT with go-graphviz (Graphviz compiled to WebAssembly)
// and returns SVG. Importing it costs every process that links it the compilation of
// that WebAssembly in an init function, so only the graph-drawing binary
// (cmd/ikesim-graph) and this package's tests import it.
//
// It imports go-graphviz only.
package graphviz

import (
	"bytes"
	"context"
	"fmt"

	"github.com/goccy/go-graphviz"
)

// SVG lays out the DOT graph with the dot engine and draws it as SVG.
func SVG(ctx context.Context, dot []byte) ([]byte, error) {
	g, err := graphviz.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("graphviz: %v", err)
	}
	defer g.Close()
	gr, err := graphviz.ParseBytes(dot)
	if err != nil {
		return nil, fmt.Errorf("graphviz: the DOT does not parse: %v", err)
	}
	defer gr.Close()
	var b bytes.Buffer
	if err := g.Render(ctx, gr, graphviz.SVG, &b); err != nil {
		return nil, fmt.Errorf("graphviz: %v", err)
	}
	return b.Bytes(), nil
}
