// Package all registers every format of ikesim render: importing it (for its side
// effects) makes render.Lookup find each one. Adding a format is a package that calls
// render.Register in its init, and one import here.
package all

import (
	_ "github.com/ikesim/ikesim/render/graph"   // topology and states views: dot, svg
	_ "github.com/ikesim/ikesim/render/html"    // html
	_ "github.com/ikesim/ikesim/render/mermaid" // mermaid, plantuml
	_ "github.com/ikesim/ikesim/render/png"     // png
	_ "github.com/ikesim/ikesim/render/svg"     // svg
)
