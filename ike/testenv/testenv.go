// Package testenv gives tests what they need from the machine: external tools such as
// tshark (installed from Debian's packages when missing) and the reference captures made
// by strongSwan (testdata/captures).
//
// It imports only the standard library and is imported only by tests; it must never
// import another ikesim package.
package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// LockFile serialises package installs across test binaries running in parallel.
const LockFile = "/tmp/ikesim-apt.lock"

// preseeds are debconf answers given before installing a package, so that installs
// never stop to ask.
var preseeds = map[string][]string{
	"tshark":           {"wireshark-common wireshark-common/install-setuid boolean false"},
	"wireshark-common": {"wireshark-common wireshark-common/install-setuid boolean false"},
}

// installMu serialises installs inside one test binary; the lock file does it across
// binaries.
var installMu sync.Mutex

// Tool returns the path of the command name, installing the Debian package
// debianPackage with apt-get when the command is missing. It fails the test when the
// tool cannot be had.
func Tool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	return ensure(t, name, debianPackage, func() (string, error) { return exec.LookPath(name) })
}

// ensure returns what find finds, installing the Debian package debianPackage with
// apt-get first when it finds nothing. It fails the test when what cannot be had.
func ensure(t testing.TB, what, debianPackage string, find func() (string, error)) string {
	t.Helper()
	return ensureBy(t, what, "installing Debian package "+debianPackage, find, func() error {
		out, err := install(debianPackage)
		if err != nil {
			return fmt.Errorf("%v\n%s", err, out)
		}
		return nil
	})
}

// ensureBy returns what find finds, running get first, under the install lock, when it
// finds nothing; how says what get does. It fails the test when what cannot be had.
func ensureBy(t testing.TB, what, how string, find func() (string, error), get func() error) string {
	t.Helper()
	if p, err := find(); err == nil {
		return p
	}
	installMu.Lock()
	defer installMu.Unlock()
	unlock, err := lock(LockFile)
	if err != nil {
		t.Fatalf("testenv: %s is missing and the install lock failed: %v", what, err)
	}
	defer unlock()
	// Another binary may have installed it while this one waited for the lock.
	if p, err := find(); err == nil {
		return p
	}
	if err := get(); err != nil {
		t.Fatalf("testenv: %s is missing and %s failed: %v", what, how, err)
	}
	p, err := find()
	if err != nil {
		t.Fatalf("testenv: after %s, %s is still missing: %v", how, what, err)
	}
	return p
}

// install runs apt-get install, and when that fails apt-get update and the install
// again. It returns the combined output of the commands it ran.
func install(pkgs ...string) (string, error) {
	var log strings.Builder
	run := func(stdin string, args ...string) error {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		fmt.Fprintf(&log, "$ %s\n%s", strings.Join(args, " "), out)
		return err
	}
	for _, pkg := range pkgs {
		if answers := preseeds[pkg]; len(answers) > 0 {
			if err := run(strings.Join(answers, "\n")+"\n", "debconf-set-selections"); err != nil {
				return log.String(), fmt.Errorf("debconf-set-selections: %w", err)
			}
		}
	}
	installCmd := append([]string{"apt-get", "install", "-y", "--no-install-recommends"}, pkgs...)
	if err := run("", installCmd...); err == nil {
		return log.String(), nil
	}
	if err := run("", "apt-get", "update"); err != nil {
		return log.String(), fmt.Errorf("apt-get update: %w", err)
	}
	if err := run("", installCmd...); err != nil {
		return log.String(), fmt.Errorf("apt-get install: %w", err)
	}
	return log.String(), nil
}

// lock takes an exclusive flock on path and returns its release.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Captures returns the folder of reference captures made by strongSwan, with their key
// tables and configurations (testdata/captures in this package; its README.md says how
// they were made). It fails the test when the folder is missing.
func Captures(t testing.TB) string {
	t.Helper()
	dir, err := capturesDir()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return dir
}

func capturesDir() (string, error) {
	return rootDir("captures", func(root string) string { return filepath.Join(root, "ike", "testenv", "testdata", "captures") })
}

// Shared returns the project's shared folder: the directory "shared" beside the module
// root (the first directory holding go.mod above the working directory). A clone of the
// repository alone has none: then the test is skipped, so use it only for what genuinely
// lives outside the repository (the captures are in Captures).
func Shared(t testing.TB) string {
	t.Helper()
	dir, err := sharedDir()
	if err != nil {
		t.Skipf("testenv: %v", err)
	}
	return dir
}

func sharedDir() (string, error) {
	return rootDir("shared folder", func(root string) string { return filepath.Join(filepath.Dir(root), "shared") })
}

// rootDir is the directory that at names for the module root (the first directory
// holding go.mod above the working directory); what says what it holds, for the error
// when it is not there.
func rootDir(what string, at func(root string) string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := moduleRoot(wd)
	if err != nil {
		return "", err
	}
	dir := at(root)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("no %s at %s (module root %s)", what, dir, root)
	}
	return dir, nil
}

// moduleRoot walks up from dir to the first directory that holds go.mod.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no go.mod above " + dir)
		}
	}
}
