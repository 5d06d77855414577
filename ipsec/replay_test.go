package ipsec

import (
	"errors"
	"testing"
)

// TestReplayWindow runs sequences of received numbers through windows of several sizes;
// each step says whether the number is accepted.
func TestReplayWindow(t *testing.T) {
	type step struct {
		seq uint64
		ok  bool
	}
	tests := []struct {
		name  string
		size  int
		steps []step
	}{
		{"in order", 0, []step{{1, true}, {2, true}, {3, true}, {4, true}}},
		{"zero is never valid", 0, []step{{0, false}, {1, true}, {0, false}}},
		{"duplicates", 0, []step{{1, true}, {1, false}, {2, true}, {1, false}, {2, false}}},
		{"reordered inside the window", 64, []step{{10, true}, {5, true}, {7, true}, {5, false}, {9, true}, {10, false}}},
		{"edges of a 64 window", 64, []step{{100, true}, {37, true}, {36, false}, {99, true}, {101, true}, {37, false}, {38, true}}},
		{"older than the default window", 0, []step{{200, true}, {73, true}, {72, false}, {1, false}}},
		{"far ahead clears the bitmap", 64, []step{{1, true}, {2, true}, {1 << 20, true}, {1<<20 - 63, true}, {1<<20 - 64, false}, {2, false}}},
		{"slide by one block at a time", 64, []step{
			{63, true}, {64, true}, {127, true}, {128, true}, {65, true}, {64, false}, {191, true}, {128, false}, {129, true},
		}},
		{"ring wraps around many times", 128, []step{
			{5, true}, {5 + 256, true}, {5 + 512, true}, {5 + 512 - 127, true}, {5 + 512 - 128, false}, {5 + 256, false},
		}},
		{"large window", 1024, []step{{2000, true}, {977, true}, {976, false}, {1500, true}, {1500, false}}},
		{"odd window size", 100, []step{{150, true}, {51, true}, {50, false}, {149, true}}},
		{"64-bit numbers", 0, []step{{1<<40 + 5, true}, {1<<40 + 4, true}, {1<<40 + 5, false}, {1 << 39, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ReplayWindow{Size: tt.size}
			for i, s := range tt.steps {
				checkErr := w.Check(s.seq)
				err := w.Accept(s.seq)
				if (err == nil) != s.ok || (checkErr == nil) != s.ok {
					t.Fatalf("step %d: seq %d: Accept %v, Check %v, want ok=%v", i, s.seq, err, checkErr, s.ok)
				}
				if err != nil && !errors.Is(err, DropReplay) {
					t.Fatalf("step %d: %v is not DropReplay", i, err)
				}
			}
		})
	}
}

// TestReplayCheckDoesNotUpdate checks that Check leaves the window alone: a number checked
// but not updated (its ICV failed) is still accepted later.
func TestReplayCheckDoesNotUpdate(t *testing.T) {
	var w ReplayWindow
	for range 3 {
		if err := w.Check(7); err != nil {
			t.Fatal(err)
		}
	}
	if w.Top() != 0 {
		t.Fatalf("Check moved the window to %d", w.Top())
	}
	w.Update(7)
	if err := w.Check(7); err == nil || w.Top() != 7 {
		t.Fatalf("after Update: %v, top %d", err, w.Top())
	}
}

// TestInferSeq checks the reconstruction of extended sequence numbers of RFC 4303,
// Appendix A2 around the 2^32 boundaries, with a window of 128.
func TestInferSeq(t *testing.T) {
	tests := []struct {
		top  uint64
		low  uint32
		want uint64
	}{
		{0, 1, 1},                   // nothing received yet
		{0, 0xffffffff, 0xffffffff}, // case B at the very start: no subspace below 0
		{1000, 1001, 1001},          // case A, ahead
		{1000, 900, 900},            // case A, inside the window
		{1000, 872, 1<<32 + 872},    // case A, below the window: the next subspace
		{1<<32 - 10, 5, 1<<32 + 5},  // case A, wrapped ahead
		{1<<32 - 10, 1<<32 - 20, 1<<32 - 20},
		{1<<32 + 10, 1<<32 - 5, 1<<32 - 5},           // case B, from the previous subspace
		{1<<32 + 10, 20, 1<<32 + 20},                 // case B, ahead
		{1<<32 + 10, 1<<32 - 200, 2<<32 - 200},       // case B, far behind: taken as ahead, the ICV decides
		{5<<32 + 1000, 999, 5<<32 + 999},             // case A in a later subspace
		{5<<32 + 50, 0xfffffff0, 4<<32 + 0xfffffff0}, // case B in a later subspace
	}
	for _, tt := range tests {
		var w ReplayWindow
		if tt.top != 0 {
			w.Update(tt.top)
		}
		if got := w.InferSeq(tt.low); got != tt.want {
			t.Errorf("top %#x, low %#x: got %#x, want %#x", tt.top, tt.low, got, tt.want)
		}
	}
}
