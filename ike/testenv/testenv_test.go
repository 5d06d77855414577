package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

func TestToolFindsInstalledCommand(t *testing.T) {
	p := Tool(t, "sh", "dash")
	if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("Tool returned %q: %v", p, err)
	}
}

// fakeApt puts fake apt-get and debconf-set-selections first on PATH. The fake apt-get
// fails to install until "apt-get update" has run; then installing pkgOK creates the
// command tool.
func fakeApt(t *testing.T, tool, pkgOK string) (dir string) {
	dir = t.TempDir()
	aptGet := fmt.Sprintf(`#!/bin/sh
echo "apt-get $* $DEBIAN_FRONTEND" >> %[1]s/log
case "$1" in
update) touch %[1]s/updated ;;
install)
  [ -f %[1]s/updated ] || exit 100
  for a in "$@"; do
    if [ "$a" = %[3]s ]; then printf '#!/bin/sh\n' > %[1]s/%[2]s; chmod +x %[1]s/%[2]s; exit 0; fi
  done
  exit 100 ;;
esac
`, dir, tool, pkgOK)
	debconf := fmt.Sprintf("#!/bin/sh\ncat >> %s/debconf\n", dir)
	for name, script := range map[string]string{"apt-get": aptGet, "debconf-set-selections": debconf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

// TestToolInstalls runs Tool against a fake apt-get: the first install fails, so Tool
// must update the package lists and install again, with debconf preseeded for tshark.
func TestToolInstalls(t *testing.T) {
	tool := "ikesim-fake-tshark"
	dir := fakeApt(t, tool, "tshark")
	p := Tool(t, tool, "tshark")
	if p != filepath.Join(dir, tool) {
		t.Fatalf("Tool returned %q", p)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "log"))
	want := "apt-get install -y --no-install-recommends tshark noninteractive\n" +
		"apt-get update noninteractive\n" +
		"apt-get install -y --no-install-recommends tshark noninteractive\n"
	if string(log) != want {
		t.Errorf("apt-get calls:\n%s\nwant\n%s", log, want)
	}
	debconf, _ := os.ReadFile(filepath.Join(dir, "debconf"))
	if string(debconf) != "wireshark-common wireshark-common/install-setuid boolean false\n" {
		t.Errorf("debconf answers %q", debconf)
	}
}

// fatalTB records the first Fatalf and stops the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestToolFailsWhenNotInstallable checks that a tool apt-get cannot provide fails the
// test (rather than skipping it) with apt-get's output in the message.
func TestToolFailsWhenNotInstallable(t *testing.T) {
	fakeApt(t, "ikesim-missing-tool", "some-other-package")
	tb := &fatalTB{TB: t}
	done := make(chan string)
	go func() {
		defer func() { done <- tb.msg }()
		Tool(tb, "ikesim-missing-tool", "ikesim-missing-package")
	}()
	msg := <-done
	if !strings.Contains(msg, "installing Debian package ikesim-missing-package failed") || !strings.Contains(msg, "apt-get update") {
		t.Fatalf("Fatalf message %q", msg)
	}
}

func TestCapturesHoldTheStrongSwanFiles(t *testing.T) {
	dir := Captures(t)
	for _, name := range []string{"README.md", "ikev2-psk.pcap", "ikev2-psk.keys/esp_sa", "ikev1-main.swanctl-a.conf", "probe-loopback-marker.pcap"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("Captures returned %q: %v", dir, err)
		}
	}
}

func TestModuleRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := moduleRoot(deep); err == nil {
		t.Fatal("no go.mod: no error")
	}
	if err := os.WriteFile(filepath.Join(root, "a", "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := moduleRoot(deep); err != nil || got != filepath.Join(root, "a") {
		t.Fatalf("moduleRoot = %q, %v", got, err)
	}
}

// TestLockExcludes checks that the install lock keeps a second holder out until it is
// released.
func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := lock(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("second lock while held: %v", err)
	}
	unlock()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("second lock after release: %v", err)
	}
}
