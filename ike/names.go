package ike

import (
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Helpers the IKEv1 and IKEv2 codecs share to name protocol values in dissections and
// logs.

// NameOr returns the name of v in names, or "PREFIX(n)" for a value without one.
func NameOr[K ~uint8 | ~uint16 | ~uint32](names map[K]string, v K, prefix string) string {
	if s, ok := names[v]; ok {
		return s
	}
	return fmt.Sprintf("%s(%d)", prefix, uint32(v))
}

// Names lists the names of a name table in the order of their values.
func Names[K ~uint8 | ~uint16 | ~uint32](names map[K]string) []string {
	keys := slices.Sorted(maps.Keys(names))
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = names[k]
	}
	return out
}

// FlagName names one bit of a flags byte.
type FlagName struct {
	Bit  uint8
	Name string
}

// FlagString writes the set bits of v by name, joined by "|", unnamed bits in hex, and
// "none" when no bit is set.
func FlagString(v uint8, names []FlagName) string {
	var parts []string
	rest := v
	for _, n := range names {
		if v&n.Bit != 0 {
			parts = append(parts, n.Name)
			rest &^= n.Bit
		}
	}
	if rest != 0 {
		parts = append(parts, fmt.Sprintf("0x%02x", rest))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// HexShort shows bytes as hex for a dissection, shortened to their first 16 bytes and
// their length when longer than 32.
func HexShort(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	if len(b) <= 32 {
		return hex.EncodeToString(b)
	}
	return fmt.Sprintf("%s... (%d bytes)", hex.EncodeToString(b[:16]), len(b))
}

// Nearest returns the known name closest to name by edit distance, when it is close
// enough to be a likely typo (within 2 edits, or a third of the name's length): the
// "did you mean" of error messages.
func Nearest(name string, known []string) (string, bool) {
	best, bestD := "", 1<<30
	for _, k := range known {
		if d := editDistance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best, best != "" && bestD <= max(2, len(name)/3)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
