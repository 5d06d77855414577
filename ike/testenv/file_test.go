package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFileFindsExistingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plugin.so")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := File(t, p, "no-such-package"); got != p {
		t.Fatalf("File returned %q, want %q", got, p)
	}
}

// TestFileInstalls runs File against the fake apt-get: the file appears only once the
// package is installed, after an update.
func TestFileInstalls(t *testing.T) {
	dir := fakeApt(t, "libfake-plugin.so", "fake-plugins")
	want := filepath.Join(dir, "libfake-plugin.so")
	if got := File(t, want, "fake-plugins"); got != want {
		t.Fatalf("File returned %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "updated")); err != nil {
		t.Fatal("File did not update the package lists after the first install failed")
	}
}
