package ipsec

import (
	"math/bits"
	"strconv"
)

// DefaultReplayWindow is the anti-replay window, in packets, of an SA that sets none.
const DefaultReplayWindow = 128

// ReplayWindow is the receiver's anti-replay window (RFC 4303, Section 3.4.3), kept as the
// ring of 64-bit blocks of RFC 6479 so that sliding the window clears whole blocks instead
// of shifting bits. The zero value is ready to use with DefaultReplayWindow packets.
//
// The numbers it takes are full 64-bit sequence numbers: with Extended Sequence Numbers,
// InferSeq rebuilds them from the 32 bits on the wire first (RFC 4303, Appendix A2).
type ReplayWindow struct {
	// Size is the window in packets: a number more than Size below the highest one
	// accepted is refused as too old. 0 means DefaultReplayWindow. Set it before use.
	Size int

	top    uint64   // highest sequence number accepted (the "right edge")
	blocks []uint64 // ring of bitmaps; bit n of block (seq/64) mod len is seq
}

const blockBits = 64

func (w *ReplayWindow) size() uint64 {
	if w.Size <= 0 {
		return DefaultReplayWindow
	}
	return uint64(w.Size)
}

// Top is the highest sequence number accepted so far, 0 before the first.
func (w *ReplayWindow) Top() uint64 { return w.top }

// Check reports whether seq would be accepted, without changing the window: it returns
// nil, or a *DropError with reason DropReplay saying whether seq is 0, too old or seen.
// Per RFC 4303, Section 3.4.3 the receiver checks before verifying the ICV and calls
// Update only once the ICV has verified.
func (w *ReplayWindow) Check(seq uint64) error {
	switch {
	case seq == 0:
		return &DropError{Reason: DropReplay, Detail: "sequence number 0 is never sent"}
	case seq > w.top:
		return nil
	case w.top-seq >= w.size():
		return &DropError{Reason: DropReplay, Seq: seq,
			Detail: "older than the window (highest " + strconv.FormatUint(w.top, 10) + ", window " + strconv.FormatUint(w.size(), 10) + ")"}
	case w.blocks != nil && w.blocks[(seq/blockBits)&uint64(len(w.blocks)-1)]&(1<<(seq%blockBits)) != 0:
		return &DropError{Reason: DropReplay, Seq: seq, Detail: "already received"}
	}
	return nil
}

// Update marks seq as received, sliding the window when seq is above the highest so far.
// Call it only for a sequence number that Check accepted and whose ICV verified.
func (w *ReplayWindow) Update(seq uint64) {
	if w.blocks == nil {
		// RFC 6479, Section 2: one block more than the window needs, so that the block
		// holding the right edge can fill while the oldest one still counts.
		n := (w.size()+blockBits-1)/blockBits + 1
		w.blocks = make([]uint64, 1<<bits.Len64(n-1))
	}
	mask := uint64(len(w.blocks) - 1)
	if seq > w.top {
		cur, next := w.top/blockBits, seq/blockBits
		diff := next - cur
		if diff > uint64(len(w.blocks)) {
			diff = uint64(len(w.blocks))
		}
		for i := uint64(1); i <= diff; i++ {
			w.blocks[(cur+i)&mask] = 0
		}
		w.top = seq
	}
	w.blocks[(seq/blockBits)&mask] |= 1 << (seq % blockBits)
}

// Accept is Check followed, when it passes, by Update.
func (w *ReplayWindow) Accept(seq uint64) error {
	if err := w.Check(seq); err != nil {
		return err
	}
	w.Update(seq)
	return nil
}

// InferSeq rebuilds the 64-bit Extended Sequence Number of a packet from the low 32 bits
// it carries, choosing the high-order half that puts it in or just past the window
// (RFC 4303, Appendix A2.1 and A2.2). The ICV, which covers the high-order bits, then
// tells whether the guess was right.
func (w *ReplayWindow) InferSeq(low uint32) uint64 {
	th, tl := uint32(w.top>>32), uint32(w.top)
	win := w.size()
	if win > 1<<31 {
		win = 1 << 31
	}
	bottom := tl - uint32(win) + 1 // Tl - W + 1, mod 2^32
	hi := th
	if uint64(tl) >= win-1 {
		// Case A: the window lies within one sequence number subspace.
		if low < bottom {
			hi = th + 1
		}
	} else if low >= bottom && th > 0 {
		// Case B: the window spans two subspaces; a number at or above its bottom
		// belongs to the previous one.
		hi = th - 1
	}
	return uint64(hi)<<32 | uint64(low)
}
