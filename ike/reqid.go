package ike

import (
	"encoding/binary"
	"net/netip"
)

// A reqid ties a Child SA's policies to its SA pair. Each child configuration has one,
// which its trap policies use. One configuration can serve many peers at once (a
// gateway whose remote identity is %any, selectors that are dynamic or a virtual IP):
// each of those Child SAs needs a reqid of its own, or the traffic for one peer would
// leave on another's SA. As strongSwan's kernel interface allocates them (alloc_reqid),
// Child SAs with the same selectors share a reqid, so that a rekeyed SA keeps its
// predecessor's; the first selectors of a configuration get the configuration's own,
// the trap's, and any other selectors a fresh one.

// Reqids gives out the reqids of an engine's Child SAs. The zero value is ready to
// use.
type Reqids struct {
	use  map[uint32]*reqidUse
	by   map[string]uint32 // configuration's reqid and selectors -> reqid
	next uint32            // the last fresh reqid given
}

// reqidUse is who holds a reqid: the selectors, and how many Child SAs.
type reqidUse struct {
	key string
	n   int
}

// Alloc is the reqid of a new Child SA of the configuration whose reqid is cfg, with
// these selectors; configured reports whether a reqid is a configuration's, which a
// fresh one must not be.
func (r *Reqids) Alloc(cfg uint32, local, remote []TrafficSelector, configured func(uint32) bool) uint32 {
	if r.use == nil {
		r.use, r.by = map[uint32]*reqidUse{}, map[string]uint32{}
	}
	key := reqidKey(cfg, local, remote)
	if id, ok := r.by[key]; ok {
		r.use[id].n++
		return id
	}
	id := cfg
	if r.use[id] != nil {
		// The configuration's own is held for other selectors: the next free one,
		// counting on from the last one given.
		id = r.next
		for {
			id++
			if id != 0 && !configured(id) && r.use[id] == nil {
				break
			}
		}
		r.next = id
	}
	r.by[key] = id
	r.use[id] = &reqidUse{key: key, n: 1}
	return id
}

// Release gives a Child SA's reqid back.
func (r *Reqids) Release(id uint32) {
	u := r.use[id]
	if u == nil {
		return
	}
	if u.n--; u.n == 0 {
		delete(r.use, id)
		delete(r.by, u.key)
	}
}

// reqidKey is the key of a configuration's reqid and selectors. Two keys are equal when
// the selectors print the same: addresses, protocol, and the ports of a protocol.
func reqidKey(cfg uint32, local, remote []TrafficSelector) string {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 64), cfg)
	for _, ts := range [][]TrafficSelector{local, remote} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(ts)))
		for _, t := range ts {
			b = append(b, t.Proto)
			if t.Proto != 0 {
				b = binary.BigEndian.AppendUint16(b, t.StartPort)
				b = binary.BigEndian.AppendUint16(b, t.EndPort)
			}
			for _, a := range []netip.Addr{t.Start, t.End} {
				b = append(b, byte(a.BitLen()))
				b, _ = a.AppendBinary(b)
			}
		}
	}
	return string(b)
}
