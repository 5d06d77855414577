package scenarios

import (
	"bytes"
	"testing"
)

// TestRekeyLifetimesSameBytesEveryRun runs lab-rekey-lifetimes, whose IKE SAs end with
// several timers armed, again and again with one seed: every run gives the same trace.
// Timers cancelled in map order made about every other run differ.
func TestRekeyLifetimesSameBytesEveryRun(t *testing.T) {
	s, err := Load("lab-rekey-lifetimes")
	if err != nil {
		t.Fatal(err)
	}
	first, firstPcap := traceBytes(t, run(t, s, 42))
	for i := range 8 {
		j, p := traceBytes(t, run(t, s, 42))
		if !bytes.Equal(first, j) || !bytes.Equal(firstPcap, p) {
			t.Fatalf("run %d with seed 42 differs from the first", i+2)
		}
	}
}
