package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// InteropLockFile serialises the tests that start IKE daemons, use network namespaces or
// fixed ports, across test binaries and sessions: run them under
// flock /tmp/ikesim-interop.lock, or let InteropLock take it.
const InteropLockFile = "/tmp/ikesim-interop.lock"

// InteropLock holds InteropLockFile until the test ends. When a process above this one
// holds it already (flock InteropLockFile go test ...), the test runs under that lock.
func InteropLock(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(InteropLockFile, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("testenv: interop lock: %v", err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		if byAncestor(f) {
			f.Close()
			return
		}
		t.Logf("testenv: waiting for %s", InteropLockFile)
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
	}
	if err != nil {
		f.Close()
		t.Fatalf("testenv: interop lock: %v", err)
	}
	t.Cleanup(func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}

// byAncestor reports whether a flock on f's file is held by this process's parent, or
// its parent's, and so on (/proc/locks names the holder's PID and the file's inode).
func byAncestor(f *os.File) bool {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	locks, err := os.Open("/proc/locks")
	if err != nil {
		return false
	}
	defer locks.Close()
	holders := map[int]bool{}
	sc := bufio.NewScanner(locks)
	for sc.Scan() {
		// 1: FLOCK  ADVISORY  WRITE 1234 00:2f:5678 0 EOF
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[1] != "FLOCK" {
			continue
		}
		dev := strings.Split(fields[5], ":")
		if ino, err := strconv.ParseUint(dev[len(dev)-1], 10, 64); err != nil || ino != st.Ino {
			continue
		}
		if pid, err := strconv.Atoi(fields[4]); err == nil {
			holders[pid] = true
		}
	}
	for pid := os.Getppid(); pid > 1; pid = parent(pid) {
		if holders[pid] {
			return true
		}
	}
	return false
}

// parent is the PID of pid's parent, or 0.
func parent(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
	fields := strings.Fields(rest)
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}
