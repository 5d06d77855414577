package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Unpacked returns the root of Debian package pkg unpacked into dir (dpkg -x), for a
// program whose package cannot be installed beside another's: libreswan's conflicts
// with strongSwan's. It downloads the package with apt-get download the first time,
// and installs the dependencies that keep accepts (its libraries, say) when they are
// missing. It fails the test when the package cannot be had.
func Unpacked(t testing.TB, pkg, dir string, keep func(dep string) bool) string {
	t.Helper()
	marker := filepath.Join(dir, ".unpacked-"+pkg)
	return ensureBy(t, pkg+" unpacked in "+dir, "unpacking Debian package "+pkg, func() (string, error) {
		_, err := os.Stat(marker)
		return dir, err
	}, func() error {
		if err := unpack(pkg, dir, keep); err != nil {
			return err
		}
		return os.WriteFile(marker, nil, 0o644)
	})
}

func unpack(pkg, dir string, keep func(string) bool) error {
	tmp, err := os.MkdirTemp("", "ikesim-deb-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = tmp
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	if _, err := run("apt-get", "download", pkg); err != nil {
		if _, err := run("apt-get", "update"); err != nil {
			return err
		}
		if _, err := run("apt-get", "download", pkg); err != nil {
			return err
		}
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, pkg+"_*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download %s left %d .deb files", pkg, len(debs))
	}
	depends, err := run("dpkg-deb", "-f", debs[0], "Depends")
	if err != nil {
		return err
	}
	var missing []string
	for _, dep := range Depends(depends) {
		if keep(dep) && !installed(dep) {
			missing = append(missing, dep)
		}
	}
	if len(missing) > 0 {
		if out, err := install(missing...); err != nil {
			return fmt.Errorf("installing %s: %v\n%s", strings.Join(missing, " "), err, out)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_, err = run("dpkg", "-x", debs[0], dir)
	return err
}

// Depends lists the packages of a Depends field: the first of each set of alternatives,
// without its version.
func Depends(field string) []string {
	var names []string
	for _, dep := range strings.Split(field, ",") {
		first, _, _ := strings.Cut(dep, "|")
		name, _, _ := strings.Cut(strings.TrimSpace(first), " ")
		name, _, _ = strings.Cut(name, ":")
		if name != "" {
			names = append(names, name)
		}
	}
	return names
}

// installed reports whether Debian package pkg is installed.
func installed(pkg string) bool {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Status}", pkg).Output()
	return err == nil && strings.HasSuffix(string(out), " installed")
}
