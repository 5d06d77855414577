package ikev2test

import (
	"strings"

	"github.com/ikesim/ikesim/ike"
)

// Recorder is an ike.Observer that keeps everything an engine reports, as typed values.
type Recorder struct {
	Actions   []string
	Errors    []ike.Failure
	States    []ike.StateChange
	NATs      []ike.NATInfo
	In        []ike.Datagram // datagrams the engine accepted
	Drops     []Drop         // datagrams it discarded
	IKEUp     []*ike.IKESAInfo
	IKEDown   []*ike.IKESAInfo
	ChildUp   []*ike.ChildSAInfo
	ChildDown []*ike.ChildSAInfo
}

// Drop is a datagram the engine discarded, and why.
type Drop struct {
	Datagram ike.Datagram
	Reason   string
}

var _ ike.Observer = (*Recorder)(nil)

func (r *Recorder) Action(text string)                { r.Actions = append(r.Actions, text) }
func (r *Recorder) State(s ike.StateChange)           { r.States = append(r.States, s) }
func (r *Recorder) Received(dg ike.Datagram)          { r.In = append(r.In, dg) }
func (r *Recorder) Dropped(dg ike.Datagram, w string) { r.Drops = append(r.Drops, Drop{dg, w}) }
func (r *Recorder) IKESAUp(sa *ike.IKESAInfo)         { r.IKEUp = append(r.IKEUp, sa) }
func (r *Recorder) IKESADown(sa *ike.IKESAInfo, _ string) {
	r.IKEDown = append(r.IKEDown, sa)
}
func (r *Recorder) ChildSAUp(c *ike.ChildSAInfo) { r.ChildUp = append(r.ChildUp, c) }
func (r *Recorder) ChildSADown(c *ike.ChildSAInfo, _ string) {
	r.ChildDown = append(r.ChildDown, c)
}
func (r *Recorder) Error(f ike.Failure)       { r.Errors = append(r.Errors, f) }
func (r *Recorder) NATDetected(n ike.NATInfo) { r.NATs = append(r.NATs, n) }

// DroppedFor reports whether a drop reason contains s.
func (r *Recorder) DroppedFor(s string) bool {
	for _, d := range r.Drops {
		if strings.Contains(d.Reason, s) {
			return true
		}
	}
	return false
}
