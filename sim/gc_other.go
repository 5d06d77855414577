//go:build !linux

package sim

// physicalMemory is the machine's memory in bytes, or 0 when it cannot tell: elsewhere
// than on Linux ikesim sets no memory limit of its own.
func physicalMemory() uint64 { return 0 }
