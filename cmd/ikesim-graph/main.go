// Command ikesim-graph reads a Graphviz DOT graph on standard input and writes it laid
// out as SVG on standard output, with go-graphviz. ikesim render runs it for the
// topology and state-machine views: go-graphviz compiles its WebAssembly when a
// process that links it starts, so it lives in this program and not in ikesim.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/ikesim/ikesim/render/graph/graphviz"
)

func main() {
	dot, err := io.ReadAll(os.Stdin)
	if err == nil {
		var svg []byte
		if svg, err = graphviz.SVG(context.Background(), dot); err == nil {
			_, err = os.Stdout.Write(svg)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ikesim-graph: %v\n", err)
		os.Exit(1)
	}
}
