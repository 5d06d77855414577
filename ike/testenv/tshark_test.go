package testenv

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestMultisetDiff(t *testing.T) {
	onlyA, onlyB := MultisetDiff([]int{1, 2, 2, 3}, []int{2, 3, 3, 4})
	slices.Sort(onlyA)
	slices.Sort(onlyB)
	if !slices.Equal(onlyA, []int{1, 2}) || !slices.Equal(onlyB, []int{3, 4}) {
		t.Errorf("MultisetDiff = %v, %v; want [1 2], [3 4]", onlyA, onlyB)
	}
}

func TestFuzzSeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "FuzzParse", "frame01")
	FuzzSeed(t, path, []byte("\x01a"), true, "")
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "go test fuzz v1\n[]byte(\"\\x01a\")\n" {
		t.Fatalf("wrote %q, %v", got, err)
	}
	FuzzSeed(t, path, []byte("\x01a"), false, "") // the same: no error
}

func TestTSharkFields(t *testing.T) {
	rows := TSharkFields(t, []byte("1\t\ta\tb\n2\t\t\tc\n"), 2)
	if !slices.Equal(rows[1], []string{"a", "b"}) || !slices.Equal(rows[2], []string{"", "c"}) {
		t.Errorf("rows %v", rows)
	}
}
