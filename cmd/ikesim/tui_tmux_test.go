package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike/testenv"
)

// TestWalkthroughInTmux runs the real binary in tmux, steps with keys, reads the screen
// and quits.
func TestWalkthroughInTmux(t *testing.T) {
	tmux := testenv.Tool(t, "tmux", "tmux")
	bin := filepath.Join(t.TempDir(), "ikesim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, size := range []struct{ w, h int }{{120, 40}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			sock := fmt.Sprintf("ikesim-test-%d-%d", size.w, time.Now().UnixNano())
			run := func(args ...string) (string, error) {
				out, err := exec.Command(tmux, append([]string{"-L", sock}, args...)...).CombinedOutput()
				return string(out), err
			}
			t.Cleanup(func() { run("kill-server") })
			if out, err := run("new-session", "-d", "-s", "w", "-x", fmt.Sprint(size.w), "-y", fmt.Sprint(size.h), bin); err != nil {
				t.Fatalf("tmux: %v\n%s", err, out)
			}
			screen := func() string {
				out, _ := run("capture-pane", "-p", "-t", "w")
				return out
			}
			waitFor := func(what string, key string, tries int) {
				t.Helper()
				for i := 0; i < tries; i++ {
					if strings.Contains(screen(), what) {
						return
					}
					if key != "" {
						run("send-keys", "-t", "w", key)
					}
					time.Sleep(50 * time.Millisecond)
				}
				t.Fatalf("%q never appeared; the screen:\n%s", what, screen())
			}
			waitFor("Sequence", "", 100)
			if strings.Contains(screen(), "IKE_SA_INIT") {
				t.Fatal("IKE_SA_INIT is on screen before any step")
			}
			waitFor("IKE_SA_INIT request", "n", 60)
			if strings.Contains(screen(), "IKE_AUTH request") {
				t.Fatal("IKE_AUTH shows before stepping to it")
			}
			waitFor("IKE_AUTH request", "n", 60)
			run("send-keys", "-t", "w", "q")
			for i := 0; i < 100; i++ {
				if _, err := run("has-session", "-t", "w"); err != nil {
					return // the session ended: q quit the program
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Fatalf("q did not quit; the screen:\n%s", screen())
		})
	}
}
