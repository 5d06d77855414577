//go:build linux

package main

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev2"
	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// The flood test: ikesim live answers as a responder on ports 500 and 4500 of a network
// namespace's loopback while an attacker with a raw socket sends, from addresses spread
// over 127.0.0.0/8, floodInits IKE_SA_INIT requests and floodJunk other datagrams. In
// the middle of the flood a second ikesim live initiates a real IKE SA, which comes up
// through a COOKIE. The flood goes on, at the same pace, until that IKE SA is up (at most
// floodWait after the initiator starts): on a loaded machine the initiator's
// retransmissions can take longer than floodTime, and the SA must come up under flood. The responder must answer throughout, never panic, stop cleanly on
// SIGINT, and keep its peak resident memory (VmHWM) under floodMemoryBound.

const (
	floodInits = 100000
	floodJunk  = 100000
	// floodTime is how long the attacker takes to send it all.
	floodTime = 25 * time.Second
	// floodWait is how long the legitimate initiator has to bring its IKE SA up.
	floodWait = 60 * time.Second
	// floodMemoryBound is the responder's peak resident memory that the test allows: the
	// trace's window (live.DefaultWindow events or live.DefaultWindowBytes of datagrams,
	// some 30 MB), the half-open IKE SAs (at most init_limit_half_open, 1000 below; the
	// spoofed requests make at most cookie_threshold, 30), the 64 datagrams queued for the
	// event loop, and the Go runtime with its garbage collector's headroom. Measured: 63 to
	// 71 MiB, 12 MiB before the flood.
	floodMemoryBound = 128 << 20
)

// floodScenario is twoGateways with b answering IKE_SA_INIT from any address (its
// connection names no remote address), with strongSwan's default COOKIE thresholds and
// at most 1000 half-open IKE SAs; a is the legitimate initiator.
func floodScenario() string {
	s := twoGateways("flood", "none", "")
	s = strings.Replace(s, "      remote_addrs: [192.0.2.1]\n", "", 1)
	return strings.Replace(s, "10.8.2.1/32]}", "10.8.2.1/32], charon: {init_limit_half_open: 1000}}", 1)
}

// rawSocketIn opens a raw IPv4 socket (the caller writes the IP header) in namespace
// ns, on a thread of its own that ends with its goroutine.
func rawSocketIn(t *testing.T, ns string) int {
	t.Helper()
	fd := make(chan int, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- inNetns(ns, func() error {
			s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
			fd <- s
			return err
		})
	}()
	if err := <-errc; err != nil {
		t.Fatalf("raw socket in %s: %v", ns, err)
	}
	s := <-fd
	t.Cleanup(func() { syscall.Close(s) })
	return s
}

// floodOutput reads what the responder prints, line by line, and counts.
type floodOutput struct {
	mu       sync.Mutex
	lines    int
	cookies  int // IKE_SA_INIT responses with N(COOKIE)
	received int // datagrams from addresses other than a's
	started  bool
	errors   []string // error lines (the first few)
	tail     []string
}

func (o *floodOutput) read(r *bufio.Scanner) {
	for r.Scan() {
		line := r.Text()
		o.mu.Lock()
		o.lines++
		switch {
		case strings.Contains(line, "Ctrl-C deletes"):
			o.started = true
		case strings.Contains(line, "→ b  ") && !strings.Contains(line, "a → b"):
			o.received++
		case strings.Contains(line, "IKE_SA_INIT response") && strings.Contains(line, "N(COOKIE)"):
			o.cookies++
		case strings.Contains(line, ": error: ") && len(o.errors) < 20:
			o.errors = append(o.errors, line)
		}
		if o.tail = append(o.tail, line); len(o.tail) > 40 {
			o.tail = o.tail[1:]
		}
		o.mu.Unlock()
	}
}

func (o *floodOutput) counts() (lines, cookies, received int, started bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lines, o.cookies, o.received, o.started
}

// vmHWM is the peak resident memory of a process, from /proc.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("the responder is gone: %v", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// spoofed is a random source address in 127.0.0.0/8 other than the two gateways'.
func spoofed() netip.Addr {
	n, _ := rand.Int(rand.Reader, big.NewInt(1<<24-16))
	v := uint32(127<<24) | uint32(n.Int64()+16)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// floodInit is an IKE_SA_INIT request for b's proposal with a fresh SPI and nonce (the
// KE is random bytes: no request gets as far as using it).
func floodInit(t *testing.T) func() []byte {
	p, err := ike.ParseProposal("aes256gcm16-prfsha384-x25519", ike.ProtoIKE)
	if err != nil {
		t.Fatal(err)
	}
	ke := make([]byte, 32)
	rand.Read(ke)
	m := &ikev2.Message{Header: ikev2.Header{SPIi: 1, Exchange: ikev2.IKE_SA_INIT, Flags: ikev2.FlagInitiator},
		Payloads: []ikev2.Payload{ikev2.NewSA(nil, p), &ikev2.KE{Group: 31, Data: ke}, &ikev2.Nonce{Data: make([]byte, 32)}}}
	tmpl, err := m.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return func() []byte {
		b := append([]byte(nil), tmpl...)
		rand.Read(b[:8])         // SPIi
		rand.Read(b[len(b)-32:]) // the nonce, the last payload
		return b
	}
}

// floodJunkDatagram is one hostile datagram other than an IKE_SA_INIT request: random
// bytes, random bytes after a non-ESP marker, or an IKE header (any version, exchange,
// flags and SPIs) with random payloads behind it.
func floodJunkDatagram(i int) []byte {
	var size [2]byte
	rand.Read(size[:])
	b := make([]byte, 1+int(binary.BigEndian.Uint16(size[:]))%1400)
	rand.Read(b)
	switch i % 3 {
	case 1:
		b = append(make([]byte, 4), b...)
	case 2:
		hdr := make([]byte, 28)
		rand.Read(hdr)
		binary.BigEndian.PutUint32(hdr[24:], uint32(28+len(b)))
		b = append(hdr, b...)
	}
	return b
}

func TestLiveFlood(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("the flood test needs root: a network namespace and a raw socket")
	}
	testenv.InteropLock(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "ikesim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	scenario := filepath.Join(dir, "flood.yaml")
	if err := os.WriteFile(scenario, []byte(floodScenario()), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Tool(t, "ip", "iproute2")
	ns := fmt.Sprintf("ikesim-flood-%d", os.Getpid())
	addNetns(t, ns)
	b := netip.MustParseAddrPort("127.0.0.1:500")
	a := netip.MustParseAddrPort("127.0.0.2:500")

	// The responder.
	resp := exec.Command("ip", "netns", "exec", ns, bin, "live", scenario, "--node", "b", "--listen", b.String(), "--peer", "a="+a.String(), "--grace", "2s")
	stdout, err := resp.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	resp.Stderr = resp.Stdout
	if err := resp.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	out := &floodOutput{}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		out.read(sc)
		exited <- resp.Wait()
	}()
	t.Cleanup(func() {
		if resp.ProcessState == nil {
			resp.Process.Kill()
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, _, _, started := out.counts(); started {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the responder did not start:\n%s", strings.Join(out.tail, "\n"))
		}
	}
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", resp.Process.Pid)); strings.TrimSpace(string(comm)) != "ikesim" {
		t.Fatalf("process %d is %q, not the responder", resp.Process.Pid, comm)
	}

	idle := vmHWM(t, resp.Process.Pid)

	// The attacker: every datagram from a spoofed address, paced over floodTime, and on at
	// that pace until stopFlood is closed.
	fd := rawSocketIn(t, ns)
	nextInit := floodInit(t)
	floodDone := make(chan time.Time, 1)
	stopFlood := make(chan struct{})
	sendErrs, sent := 0, 0
	go func() {
		const batch = 200
		total := floodInits + floodJunk
		tick := time.NewTicker(floodTime / time.Duration(total/batch))
		defer tick.Stop()
		dst := [4]byte{127, 0, 0, 1}
		for i := 0; ; i++ {
			if i%batch == 0 {
				if i >= total {
					select {
					case <-stopFlood:
						sent = i
						floodDone <- time.Now()
						return
					default:
					}
				}
				<-tick.C
			}
			var payload []byte
			port := uint16(500)
			if i%2 == 0 {
				payload = nextInit()
			} else {
				payload = floodJunkDatagram(i / 2)
				if (i/2)%2 == 1 {
					port = 4500
				}
			}
			pkt, err := ipsec.NewUDPPacket(netip.AddrPortFrom(spoofed(), 500), netip.AddrPortFrom(b.Addr(), port), uint16(i), payload)
			if err == nil {
				err = syscall.Sendto(fd, pkt, 0, &syscall.SockaddrInet4{Addr: dst})
			}
			if err != nil {
				sendErrs++
			}
		}
	}()

	// A quarter into the flood, the legitimate initiator.
	time.Sleep(floodTime / 4)
	initTrace := filepath.Join(dir, "a.jsonl")
	initOut := &syncBuffer{}
	initCmd := exec.Command("ip", "netns", "exec", ns, bin, "live", scenario, "--node", "a", "--listen", a.String(), "--peer", "b="+b.String(),
		"--initiate", "--trace", initTrace, "--grace", "2s")
	initCmd.Stdout, initCmd.Stderr = initOut, initOut
	initStart := time.Now()
	if err := initCmd.Start(); err != nil {
		t.Fatal(err)
	}
	var up time.Time
	for deadline := initStart.Add(floodWait); up.IsZero() && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(initOut.String(), "a: IKE SA up") {
			up = time.Now()
		}
	}
	close(stopFlood)
	end := <-floodDone
	initCmd.Process.Signal(syscall.SIGINT)
	initErr := initCmd.Wait()
	if up.IsZero() || initErr != nil {
		t.Fatalf("the legitimate initiator brought no IKE SA up in %s of flood (exit: %v):\n%s", floodWait, initErr, initOut)
	}

	// The responder is alive, within its bound; then SIGINT stops it cleanly.
	time.Sleep(time.Second) // what the socket still holds
	hwm := vmHWM(t, resp.Process.Pid)
	lines, cookies, received, _ := out.counts()
	if err := resp.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the responder exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the responder did not stop on SIGINT")
	}
	t.Logf("flood of %d IKE_SA_INIT requests and %d other datagrams in %s (%d not sent); the legitimate IKE SA came up %s after its start, %s before the flood ended",
		(sent+1)/2, sent/2, end.Sub(initStart.Add(-floodTime/4)).Round(time.Millisecond), sendErrs, up.Sub(initStart).Round(time.Millisecond), end.Sub(up).Round(time.Millisecond))
	t.Logf("the responder printed %d lines: %d datagrams from the attacker, %d COOKIE responses; peak resident memory (VmHWM) %.1f MiB (%.1f MiB before the flood), bound %d MiB",
		lines, received, cookies, float64(hwm)/(1<<20), float64(idle)/(1<<20), floodMemoryBound>>20)
	for _, e := range out.errors {
		if strings.Contains(e, "panic") {
			t.Errorf("the responder panicked: %s", e)
		}
	}
	if hwm > floodMemoryBound {
		t.Errorf("the responder's peak resident memory is %.1f MiB, above the bound of %d MiB", float64(hwm)/(1<<20), floodMemoryBound>>20)
	}
	if received < (floodInits+floodJunk)/10 || cookies < floodInits/20 || sendErrs > 0 {
		t.Errorf("the responder handled %d of the attacker's datagrams and sent %d COOKIEs (%d not sent): the flood did not reach it", received, cookies, sendErrs)
	}

	// The legitimate initiator came through a COOKIE.
	tr := readTraceFile(t, initTrace)
	cookie := has(tr, func(e *trace.Event) bool {
		return e.Kind == trace.KindMessage && e.From() == "b" && e.Exchange() == "IKE_SA_INIT" && e.Response() && slices.Contains(e.Notifies(), "COOKIE")
	})
	if !cookie || !has(tr, saUp("ike")) {
		t.Errorf("the initiator's trace: a COOKIE from b %t, IKE SA up %t", cookie, has(tr, saUp("ike")))
	}
}
