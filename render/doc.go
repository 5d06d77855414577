// Package render turns a trace into a sequence-diagram model (lanes, rows, arrows,
// action boxes, phase headers, SA spans) and draws that model: as text here, and in its
// sub-packages as SVG, PNG, HTML and the terminal UI. Every front end draws the model;
// none re-reads the trace.
//
// render is on floor 4: it imports sim (for the trace types) and ike; it must never be
// imported by sim, scenarios or the protocol packages.
package render
