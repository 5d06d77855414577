package ike

import "slices"

// transformTypes is the order in which a chosen proposal lists its transforms.
var transformTypes = []TransformType{TransformENCR, TransformPRF, TransformINTEG, TransformDH, TransformESN}

// SelectProposal is the responder's choice (RFC 7296, Section 2.7): it walks its own
// proposals in order of preference and, for each, the offered ones in order; the first
// offered proposal that matches a local one wins. The chosen proposal has exactly one
// transform of each type either side uses, the local side's preferred one, and takes
// the offered proposal's protocol; offeredIndex is the offered proposal's 0-based index
// (its proposal number is offeredIndex+1 when the initiator numbered from 1).
//
// Two proposals match when their protocols are equal and, for every transform type,
// both list none or they share at least one transform (same ID and key length). For
// ESP and AH an absent ESN transform counts as "no ESN" (RFC 7296, Section 3.3.2).
func SelectProposal(offered []Proposal, local []Proposal) (chosen Proposal, offeredIndex int, ok bool) {
	for _, l := range local {
		for i, o := range offered {
			if c, ok := matchProposal(l, o); ok {
				return c, i, true
			}
		}
	}
	return Proposal{}, -1, false
}

func matchProposal(local, offered Proposal) (Proposal, bool) {
	if local.Protocol != offered.Protocol {
		return Proposal{}, false
	}
	c := Proposal{Protocol: offered.Protocol}
	var lbuf, obuf [8]Transform // the transforms of one type: no allocation for most proposals
	for _, typ := range transformTypes {
		lt, ot := local.appendOf(lbuf[:0], typ), offered.appendOf(obuf[:0], typ)
		if typ == TransformESN && local.Protocol != ProtoIKE {
			lt, ot = orNoESN(lt), orNoESN(ot)
		}
		if len(lt) == 0 && len(ot) == 0 {
			continue
		}
		i := slices.IndexFunc(lt, func(t Transform) bool { return slices.Contains(ot, t) })
		if i < 0 {
			return Proposal{}, false
		}
		if c.Transforms == nil {
			c.Transforms = make([]Transform, 0, len(transformTypes))
		}
		c.Transforms = append(c.Transforms, lt[i])
	}
	return c, true
}

func orNoESN(ts []Transform) []Transform {
	if len(ts) == 0 {
		return append(ts, noESN)
	}
	return ts
}
