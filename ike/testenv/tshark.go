package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TSharkFields reads what tshark -T fields printed for the fields -e frame.number -e
// _ws.expert.message and then n more: the n values by frame number. A frame with an
// expert message is an error.
func TSharkFields(t testing.TB, out []byte, n int) map[int][]string {
	t.Helper()
	rows := map[int][]string{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		cols := strings.Split(line, "\t")
		frame, err := strconv.Atoi(cols[0])
		if err != nil || len(cols) != n+2 {
			t.Fatalf("tshark line %q", line)
		}
		if cols[1] != "" {
			t.Errorf("frame %d: tshark says %q", frame, cols[1])
		}
		rows[frame] = cols[2:]
	}
	return rows
}

// FuzzSeed keeps the fuzz corpus file at path equal to data, in the format of go test:
// with update it writes the file, else a missing or stale file is an error that names
// rewrite, the command that writes it again.
func FuzzSeed(t testing.TB, path string, data []byte, update bool, rewrite string) {
	t.Helper()
	seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(seed), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != seed {
		t.Errorf("%s missing or stale (run %s): %v", path, rewrite, err)
	}
}

// MultisetDiff lists what only a has and what only b has, counting repeats.
func MultisetDiff[T comparable](a, b []T) (onlyA, onlyB []T) {
	count := map[T]int{}
	for _, x := range a {
		count[x]++
	}
	for _, x := range b {
		count[x]--
	}
	for x, n := range count {
		for ; n > 0; n-- {
			onlyA = append(onlyA, x)
		}
		for ; n < 0; n++ {
			onlyB = append(onlyB, x)
		}
	}
	return onlyA, onlyB
}
