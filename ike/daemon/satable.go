package daemon

import (
	"net/netip"
	"slices"
)

// HalfOpen counts a responder's half-open SAs (IKEv2: answered IKE_SA_INIT, no IKE_AUTH
// yet; IKEv1: phase 1 not complete), in all and by peer address, for the node's
// defences (init_limit_half_open, block_threshold, cookie_threshold). The zero value is
// ready to use.
type HalfOpen struct {
	total int
	from  map[netip.Addr]int // no zero entries
}

// Add counts one more SA from peer.
func (h *HalfOpen) Add(peer netip.Addr) {
	if h.from == nil {
		h.from = map[netip.Addr]int{}
	}
	h.total++
	h.from[peer]++
}

// Remove counts one SA from peer less.
func (h *HalfOpen) Remove(peer netip.Addr) {
	h.total--
	if h.from[peer]--; h.from[peer] <= 0 {
		delete(h.from, peer)
	}
}

// Count is the number of half-open SAs, in all and from peer.
func (h *HalfOpen) Count(peer netip.Addr) (total, from int) { return h.total, h.from[peer] }

// InOrder lists an engine's SAs in the order they were made (serial numbers them): for
// walks whose order shows in the trace.
func InOrder[K comparable, S any](sas map[K]S, serial func(S) int) []S {
	list := make([]S, 0, len(sas))
	for _, sa := range sas {
		list = append(list, sa)
	}
	slices.SortFunc(list, func(a, b S) int { return serial(a) - serial(b) })
	return list
}
