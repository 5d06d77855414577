package sim

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestPhysicalMemory: on Linux the memory the process may use is known, more than 64
// MiB, and no more than the machine's.
func TestPhysicalMemory(t *testing.T) {
	var info unix.Sysinfo_t
	if err := unix.Sysinfo(&info); err != nil {
		t.Fatal(err)
	}
	if m, total := physicalMemory(), uint64(info.Totalram)*uint64(info.Unit); m < 64<<20 || m > total {
		t.Errorf("memory %d bytes, want at least 64 MiB and at most the machine's %d", m, total)
	}
}
