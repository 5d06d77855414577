package sim

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// physicalMemory is the memory the process may use, in bytes: the machine's, or its
// control group's limit where that is lower (cgroup v2's memory.max, as a container
// sets it); 0 when it cannot tell.
func physicalMemory() uint64 {
	var info unix.Sysinfo_t
	if unix.Sysinfo(&info) != nil {
		return 0
	}
	m := uint64(info.Totalram) * uint64(info.Unit)
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if limit, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && limit < m {
			m = limit // "max" (no limit) does not parse
		}
	}
	return m
}
