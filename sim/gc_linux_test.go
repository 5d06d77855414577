package sim

import "testing"

// TestPhysicalMemory: on Linux the machine's memory is known, and more than 64 MiB.
func TestPhysicalMemory(t *testing.T) {
	if m := physicalMemory(); m < 64<<20 {
		t.Errorf("physical memory %d bytes", m)
	}
}
