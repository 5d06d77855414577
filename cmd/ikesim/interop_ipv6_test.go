package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/sim/trace"
)

// freePort6 is a UDP port free on ::1.
func freePort6(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// TestInteropIPv6: ikesim and charon on the IPv6 loopback ::1. An IKEv2 SA over IPv6
// (childless, RFC 6023: see below), each side initiating in turn, both holding the same
// SA (swanctl --list-sas), a liveness check answered, the delete. Then an AH Child SA:
// ikesim offers AH between IPv6 selectors and charon selects it with ikesim's SPI; the
// kernel has no AH, so charon cannot install it, and the test checks the negotiation.
// (A Child SA that charon installs needs kernel-libipsec, which routes its traffic
// through a TUN device: not in the host's namespace of a shared machine, so
// TestInteropIPv6ChildSA runs in a namespace of its own.)
func TestInteropIPv6(t *testing.T) {
	lo := netip.IPv6Loopback()
	c := startCharon(t, charonOptions{port: freePort6(t), portNATT: freePort6(t), logChildSAs: true})
	charonAt := netip.AddrPortFrom(lo, c.port)
	ts, peerTS := "fd00:16::1/128", "fd00:16::2/128"
	// Quoted in the scenario: YAML's flow style reads a bare "::" as a mapping.
	childless := interopScenario(t, 2, false, "aes128-sha256-x25519", true, "", `"`+ts+`"`, `"`+peerTS+`"`, false)
	for _, ikesimInitiates := range []bool{true, false} {
		t.Run(map[bool]string{true: "ikesim-initiates", false: "strongswan-initiates"}[ikesimInitiates], func(t *testing.T) {
			listen := netip.AddrPortFrom(lo, freePort6(t))
			c.load(t, swanConn{version: 2, local: lo, remote: listen, proposals: "aes128-sha256-x25519", childless: "force"}.conf())
			n := startLive(t, liveOptions{scenario: childless, node: "ikesim", listen: listen, peers: peerFlags{"charon": charonAt},
				initiate: ikesimInitiates})
			if !ikesimInitiates {
				c.must(t, "--initiate", "--ike", "ikesim", "--timeout", "10")
			}
			n.waitFor(t, "the IKE SA", func(tr *trace.Trace) bool { return has(tr, saUp("ike")) })
			sameSA(t, c.waitSAs(t, 1), n, "2")
			if out := c.must(t, "--list-sas"); !strings.Contains(out, "remote 'ikesim.test' @ ::1["+fmt.Sprint(listen.Port())+"]") {
				t.Errorf("charon's IKE SA is not over IPv6:\n%s", out)
			}
			// NAT detection hashes the 16-byte addresses (RFC 7296, Section 2.23). Live
			// mode fakes its own source hash to force UDP encapsulation, so charon sees
			// ikesim "behind a NAT"; but ikesim's hash of charon's address, and charon's
			// of its own, must agree, and charon must find ikesim's destination hash right.
			if strings.Contains(c.logs(), "local host is behind NAT") {
				t.Errorf("charon finds ikesim's NAT_DETECTION_DESTINATION_IP wrong over IPv6:\n%s", c.logs())
			}
			n.do(func() {
				for _, e := range n.host.Trace.Events {
					if e.NAT != nil && (e.NAT.Local || e.NAT.Remote) {
						t.Errorf("ikesim finds a NAT on ::1: %+v", e.NAT)
					}
				}
			})
			n.do(func() { n.daemon.Liveness("tunnel") })
			n.waitFor(t, "charon's answer to the liveness check", liveness(2, "ikesim", "charon"))
			if err := n.shutdown(t); err != nil {
				t.Fatal(err)
			}
			c.waitSAs(t, 0)
		})
	}
	scenario := interopScenario(t, 2, false, "aes128-sha256-x25519", false, "aes128gcm16", `"`+ts+`"`, `"`+peerTS+`"`, false)
	t.Run("ah", func(t *testing.T) {
		listen := netip.AddrPortFrom(lo, freePort6(t))
		c.load(t, swanConn{version: 2, local: lo, remote: listen, proposals: "aes128-sha256-x25519", ahProps: "sha256",
			localTS: peerTS, remoteTS: ts}.conf())
		src, err := os.ReadFile(scenario)
		if err != nil {
			t.Fatal(err)
		}
		ah := filepath.Join(t.TempDir(), "ah.yaml")
		if err := os.WriteFile(ah, []byte(strings.Replace(string(src), "esp_proposals: [aes128gcm16]", "ah_proposals: [sha256]", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		n := startLive(t, liveOptions{scenario: ah, node: "ikesim", listen: listen, peers: peerFlags{"charon": charonAt}, initiate: true})
		var spi string
		n.waitFor(t, "the IKE_AUTH request offering AH", func(tr *trace.Trace) bool {
			return has(tr, func(e *trace.Event) bool {
				for _, s := range e.Creates() {
					if e.Kind == trace.KindMessage && e.From() == "ikesim" && e.Exchange() == "IKE_AUTH" && s.Proto == "ah" {
						spi = s.SPI
						return true
					}
				}
				return false
			})
		})
		n.waitFor(t, "charon's answer", func(tr *trace.Trace) bool {
			return has(tr, func(e *trace.Event) bool {
				return e.Kind == trace.KindMessage && e.From() == "charon" && e.Exchange() == "IKE_AUTH"
			})
		})
		logs := c.logs()
		if !regexp.MustCompile(`selected proposal: AH:HMAC_SHA2_256_128`).MatchString(logs) {
			t.Fatalf("charon did not select the AH proposal:\n%s", logs)
		}
		if i := strings.Index(logs, spi); spi != "" && i >= 0 {
			t.Logf("charon: %s", logs[strings.LastIndex(logs[:i], "\n")+1:i+len(spi)])
		}
		if spi == "" || !strings.Contains(logs, spi) {
			t.Errorf("charon's log does not name ikesim's AH SPI %s", spi)
		}
		n.shutdown(t)
	})
}

// addNetns6 makes a network namespace with IPv6 on and its loopback up (::1 private to
// it), with addrs on its loopback; the test's end deletes it.
func addNetns6(t *testing.T, name string, addrs ...string) {
	t.Helper()
	exec.Command("ip", "netns", "del", name).Run() // a leftover of a killed run
	ipCmd(t, "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0",
		"net.ipv6.conf.default.disable_ipv6=0").CombinedOutput(); err != nil {
		t.Fatalf("sysctl: %v\n%s", err, out)
	}
	ipCmd(t, "-n", name, "link", "set", "lo", "up")
	for _, a := range addrs {
		ipCmd(t, "-n", name, "addr", "add", a, "dev", "lo")
	}
}

// swanChild is a Child SA as swanctl --list-sas shows it.
type swanChild struct {
	name, state, mode, proto string
	in, out                  string // SPIs
	local, remote            string // selectors
}

// childSAs lists charon's Child SAs.
func (c *charon) childSAs(t *testing.T) []swanChild {
	t.Helper()
	out := c.must(t, "--list-sas")
	head := regexp.MustCompile(`(?m)^  (\S+): #\d+, reqid \d+, (\w+), ([\w-]+), (\w+):`)
	spi := regexp.MustCompile(`(?m)^    (in|out) +([0-9a-f]{8})`)
	ts := regexp.MustCompile(`(?m)^    (local|remote) +(\S+)`)
	var children []swanChild
	heads := head.FindAllStringSubmatchIndex(out, -1)
	for i, h := range heads {
		end := len(out)
		if i+1 < len(heads) {
			end = heads[i+1][0]
		}
		block := out[h[1]:end]
		ch := swanChild{name: out[h[2]:h[3]], state: out[h[4]:h[5]], mode: out[h[6]:h[7]], proto: out[h[8]:h[9]]}
		for _, m := range spi.FindAllStringSubmatch(block, -1) {
			if m[1] == "in" {
				ch.in = m[2]
			} else {
				ch.out = m[2]
			}
		}
		for _, m := range ts.FindAllStringSubmatch(block, -1) {
			if m[1] == "local" {
				ch.local = m[2]
			} else {
				ch.remote = m[2]
			}
		}
		children = append(children, ch)
	}
	return children
}

// TestInteropIPv6ChildSA: an IKEv2 SA with an ESP Child SA between IPv6 selectors,
// ikesim and charon both on ::1, each side initiating in turn. The kernel here has no
// ESP, so charon runs kernel-libipsec (userspace ESP over a TUN device), and both run in
// a network namespace of the test's own, whose loopback is theirs alone. charon installs
// the Child SA with ikesim's SPIs and selectors (swanctl --list-sas), and ikesim's trace
// holds the same. ICMPv6 pings cross it both ways (ikesim's answered by the namespace's
// kernel, the kernel's by ikesim), and tshark decrypts every ESP packet of ikesim's pcap
// to its ICMPv6 echo with ikesim's key tables.
func TestInteropIPv6ChildSA(t *testing.T) {
	ns := fmt.Sprintf("ikesim6-%d", os.Getpid()%100000)
	ts, peerTS := netip.MustParsePrefix("fd00:16::1/128"), netip.MustParsePrefix("fd00:16::2/128")
	addNetns6(t, ns, peerTS.String())
	lo := netip.IPv6Loopback()
	c := startCharon(t, charonOptions{netns: ns, port: 15500, portNATT: 14500, libipsec: true, logChildSAs: true})
	charonAt := netip.AddrPortFrom(lo, c.port)
	const suite, esp = "aes128-sha256-x25519", "aes128gcm16"
	scenario := interopScenario(t, 2, false, suite, false, esp, `"`+ts.String()+`"`, `"`+peerTS.String()+`"`, false)
	for i, ikesimInitiates := range []bool{true, false} {
		t.Run(map[bool]string{true: "ikesim-initiates", false: "strongswan-initiates"}[ikesimInitiates], func(t *testing.T) {
			listen := netip.AddrPortFrom(lo, uint16(16500+i))
			c.load(t, swanConn{version: 2, local: lo, remote: listen, proposals: suite, espProps: esp,
				localTS: peerTS.String(), remoteTS: ts.String()}.conf())
			pcap := filepath.Join(t.TempDir(), "live.pcap")
			n := startLiveIn(t, ns, liveOptions{scenario: scenario, node: "ikesim", listen: listen, peers: peerFlags{"charon": charonAt},
				initiate: ikesimInitiates, pcap: pcap})
			if !ikesimInitiates {
				c.must(t, "--initiate", "--child", "net", "--timeout", "10")
			}
			n.waitFor(t, "the Child SA", func(tr *trace.Trace) bool { return has(tr, saUp("child")) })
			sameSA(t, c.waitSAs(t, 1), n, "2")
			var sa *trace.SARecord
			n.do(func() {
				for _, e := range n.host.Trace.Events {
					if e.Kind == trace.KindSA && e.Op == "up" && e.SA.Type == "child" {
						sa = e.SA
					}
				}
			})
			children := c.childSAs(t)
			if len(children) != 1 {
				t.Fatalf("charon holds %d Child SAs, want 1:\n%s", len(children), c.must(t, "--list-sas"))
			}
			ch := children[0]
			t.Logf("charon: %+v; ikesim: in %s out %s, %v === %v", ch, sa.SPIIn, sa.SPIOut, sa.LocalTS, sa.RemoteTS)
			want := swanChild{name: "net", state: "INSTALLED", mode: "TUNNEL-in-UDP", proto: "ESP",
				in: sa.SPIOut, out: sa.SPIIn, local: peerTS.String(), remote: ts.String()}
			if ch != want {
				t.Errorf("charon's Child SA %+v, want %+v (ikesim's SPIs)", ch, want)
			}
			if !slices.Equal(sa.LocalTS, []string{ts.String()}) || !slices.Equal(sa.RemoteTS, []string{peerTS.String()}) {
				t.Errorf("ikesim's Child SA has selectors %v === %v, want %s === %s", sa.LocalTS, sa.RemoteTS, ts, peerTS)
			}
			// Traffic both ways: the namespace's kernel answers ikesim's ICMPv6 echo
			// requests that charon decrypts into its TUN device, and ikesim answers the
			// kernel's.
			n.do(func() { n.host.Ping(peerTS.Addr(), 2, 100*time.Millisecond) })
			n.waitFor(t, "the echo replies of charon's side", pingAnswered(peerTS.Addr(), 2))
			if out, err := exec.Command("ip", "netns", "exec", ns, "ping", "-6", "-n", "-c", "2", "-i", "0.2", "-W", "3",
				"-I", peerTS.Addr().String(), ts.Addr().String()).CombinedOutput(); err != nil {
				t.Fatalf("ping %s from %s: %v\n%s", ts.Addr(), peerTS.Addr(), err, out)
			}
			if out := c.must(t, "--list-sas"); !regexp.MustCompile(`in +[0-9a-f]{8}, +\d+ bytes, +[1-9]\d* packets`).MatchString(out) ||
				!regexp.MustCompile(`out +[0-9a-f]{8}, +\d+ bytes, +[1-9]\d* packets`).MatchString(out) {
				t.Errorf("charon's Child SA carried no packets one way:\n%s", out)
			}
			if err := n.shutdown(t); err != nil {
				t.Fatal(err)
			}
			c.waitSAs(t, 0)
			tsharkDecrypts(t, pcap, trace.Keys(n.host.Trace), listen.Port(), 0)
		})
	}
}

// pingAnswered matches a trace in which count echo replies from dst came back.
func pingAnswered(dst netip.Addr, count int) func(tr *trace.Trace) bool {
	return func(tr *trace.Trace) bool {
		return has(tr, func(e *trace.Event) bool {
			return e.Ping != nil && e.Ping.Op == trace.PingReply && e.Ping.Dst == dst.String() && e.Ping.Answered == count
		})
	}
}
