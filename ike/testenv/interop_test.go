package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

func TestDepends(t *testing.T) {
	for _, tt := range []struct {
		field string
		want  []string
	}{
		{"libc6 (>= 2.34), libnss3-tools", []string{"libc6", "libnss3-tools"}},
		{" iproute2 | iproute (>= 20071016), debconf | debconf-2.0", []string{"iproute2", "debconf"}},
		{"python3:any (>= 3.6)", []string{"python3"}},
		{"", nil},
	} {
		if got := Depends(tt.field); !slices.Equal(got, tt.want) {
			t.Errorf("Depends(%q) = %q, want %q", tt.field, got, tt.want)
		}
	}
}

// TestByAncestor: a child process sees the flock its parent holds as its ancestor's, and
// one that nobody holds as nobody's.
func TestByAncestor(t *testing.T) {
	if path := os.Getenv("TESTENV_LOCKED"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if byAncestor(f) != (os.Getenv("TESTENV_HELD") == "1") {
			t.Fatalf("byAncestor: %v", byAncestor(f))
		}
		return
	}
	path := filepath.Join(t.TempDir(), "lock")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, held := range []string{"0", "1"} {
		if held == "1" {
			if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestByAncestor$")
		cmd.Env = append(os.Environ(), "TESTENV_LOCKED="+path, "TESTENV_HELD="+held)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("lock held %s: %v\n%s", held, err, out)
		}
	}
}
