package testenv

import (
	"os"
	"testing"
)

// File returns path, installing the Debian package debianPackage with apt-get when the
// file is missing: for what a package brings that is no command on PATH, such as
// /usr/lib/ipsec/charon or a strongSwan plugin. It fails the test when the file cannot
// be had.
func File(t testing.TB, path, debianPackage string) string {
	t.Helper()
	return ensure(t, path, debianPackage, func() (string, error) {
		_, err := os.Stat(path)
		return path, err
	})
}
