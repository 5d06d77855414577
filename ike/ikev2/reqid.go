package ikev2

import (
	"fmt"

	"github.com/ikesim/ikesim/ike"
)

// A reqid ties a Child SA's policies to its SA pair. Each child configuration has one,
// which its trap policies use. One configuration can serve many peers at once (a
// gateway whose remote identity is %any, selectors that are dynamic or a virtual IP):
// each of those Child SAs needs its own reqid, or the traffic for one peer would leave
// on another's SA. As strongSwan's kernel interface allocates them (alloc_reqid),
// Child SAs with the same selectors share a reqid, so that a rekeyed SA keeps its
// predecessor's; the first selectors of a configuration get the configuration's own,
// the trap's, and any other selectors a fresh one.

// reqidUse is who holds a reqid: the selectors, and how many Child SAs.
type reqidUse struct {
	key string
	n   int
}

// allocReqid is the reqid of a new Child SA of cfg with these selectors.
func (d *Daemon) allocReqid(cfg *ike.ChildConfig, local, remote []ike.TrafficSelector) uint32 {
	if d.reqidUse == nil {
		d.reqidUse, d.reqidFor = map[uint32]*reqidUse{}, map[string]uint32{}
	}
	key := fmt.Sprint(cfg.ReqID, local, remote)
	if r, ok := d.reqidFor[key]; ok {
		d.reqidUse[r].n++
		return r
	}
	r := cfg.ReqID
	if d.reqidUse[r] != nil {
		// The configuration's own is held for other selectors: the next free one
		// above the configurations', counting on from the last one given.
		r = max(d.reqidNext, uint32(len(d.reqids)))
		for {
			r++
			if d.reqids[r] == nil && d.reqidUse[r] == nil {
				break
			}
		}
		d.reqidNext = r
	}
	d.reqidFor[key] = r
	d.reqidUse[r] = &reqidUse{key: key, n: 1}
	return r
}

// releaseReqid is a Child SA giving its reqid back.
func (d *Daemon) releaseReqid(r uint32) {
	u := d.reqidUse[r]
	if u == nil {
		return
	}
	if u.n--; u.n == 0 {
		delete(d.reqidUse, r)
		delete(d.reqidFor, u.key)
	}
}
