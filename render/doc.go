// Package render turns a trace into a sequence-diagram model (lanes, rows, arrows,
// action boxes, phase headers, SA spans) and draws that model: as text here, and in its
// sub-packages as SVG, PNG, HTML and the terminal UI. Every front end draws the model;
// none re-reads the trace.
//
// Each format registers a Renderer (registry.go); render/all imports them all.
//
// render is on floor 4: it imports sim/trace (the trace), ike and assets, never sim, the
// engines or ipsec; it must never be imported by sim, scenarios or the protocol packages
// (ARCHITECTURE.md).
package render
