package main

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ikesim/ikesim/assets"
	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/sim/trace"
	"golang.org/x/sys/unix"
)

// Interop with strongSwan: ikesim live against a real charon (Debian's strongSwan
// packages, installed when missing). charon runs from a temporary directory with the
// test's own strongswan.conf and swanctl.conf, its own vici socket and pid file, on
// ports nobody else uses, and is stopped by its PID when the test ends.
//
// On loopback the IKE SAs are childless (RFC 6023): the kernel here has no ESP, so a
// charon in the host's namespace can install no Child SA. ESP is tested against a charon
// in a network namespace with kernel-libipsec (userspace ESP over a TUN device), joined
// to the host by a veth pair.

// strongSwan's plugins the tests load, and the Debian packages that have them.
var charonPlugins = map[string]string{
	"openssl":         "libstrongswan-standard-plugins", // 3DES, and AES-GCM with the gcm plugin
	"gcm":             "libstrongswan-standard-plugins",
	"curve25519":      "libstrongswan-extra-plugins",
	"ctr":             "libstrongswan-extra-plugins", // AES-CTR, Camellia-CTR (openssl has them too)
	"ccm":             "libstrongswan-extra-plugins",
	"cmac":            "libstrongswan-extra-plugins", // AES-CMAC-96 and PRF-AES128-CMAC
	"kernel-libipsec": "libcharon-extra-plugins",
	"vici":            "strongswan-swanctl",
}

const charonBin = "/usr/lib/ipsec/charon"

// strongSwan installs charon, swanctl and the plugins when they are missing and returns
// the path of swanctl.
func strongSwan(t *testing.T) string {
	t.Helper()
	testenv.File(t, charonBin, "strongswan-charon")
	for plugin, pkg := range charonPlugins {
		testenv.File(t, "/usr/lib/ipsec/plugins/libstrongswan-"+plugin+".so", pkg)
	}
	return testenv.Tool(t, "swanctl", "strongswan-swanctl")
}

// charon is one running charon daemon.
type charon struct {
	*daemon
	swanctl string
	port    uint16 // charon.port
}

type charonOptions struct {
	netns          string // run in this network namespace ("" = the host's)
	port, portNATT uint16
	libipsec       bool // kernel-libipsec: userspace ESP
	virtualIP      bool // install a virtual IP charon is given (in its own namespace only)
	logChildSAs    bool // log the Child SAs charon adds (chd and knl at level 2)
}

// startCharon starts a charon and stops it by its PID when the test ends.
func startCharon(t *testing.T, o charonOptions) *charon {
	t.Helper()
	swanctl := strongSwan(t)
	dir, err := os.MkdirTemp("", "ikesim-charon-") // short: the vici socket path must fit sun_path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Mkdir(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	kernel := "kernel-netlink"
	if o.libipsec {
		kernel = "kernel-libipsec kernel-netlink" // libipsec first: it becomes the IPsec backend
	}
	routes := "install_routes = no\n  routing_table = 0"
	if o.libipsec {
		routes = "install_routes = yes"
	}
	conf := fmt.Sprintf(`# written by ikesim's interop tests
charon {
  load = random nonce openssl aes sha1 sha2 hmac kdf gmp curve25519 gcm ctr ccm cmac xcbc x509 pubkey pem pkcs1 %s socket-default vici
  port = %d
  port_nat_t = %d
  %s
  install_virtual_ip = %s
  i_dont_care_about_security_and_use_aggressive_mode_psk = yes
  filelog {
    main {
      path = %s/charon.log
      time_format = %%H:%%M:%%S
      default = 1
      ike = 2
      cfg = 2
      net = 2%s
      flush_line = yes
    }
  }
  plugins {
    vici {
      socket = unix://%s/charon.vici
    }
  }
}
`, kernel, o.port, o.portNATT, routes, yesNo(o.virtualIP), dir, map[bool]string{true: "\n      chd = 2\n      knl = 2"}[o.logChildSAs], dir)
	if err := os.WriteFile(filepath.Join(dir, "strongswan.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// charon writes its pid file to /var/run/charon.pid: the test's directory over /run
	// keeps it from meeting another charon's.
	d := startDaemon(t, "charon", dir, o.netns, []string{"STRONGSWAN_CONF=" + filepath.Join(dir, "strongswan.conf")},
		map[string]string{"/run": filepath.Join(dir, "run")}, charonBin)
	d.logFiles = []string{"charon.out", "charon.log"}
	c := &charon{daemon: d, swanctl: swanctl, port: o.port}
	// The socket's file appears when charon binds it, a moment before it listens: only
	// a connection that is accepted shows that swanctl will get through.
	d.waitFor(t, "its vici socket", func() bool {
		conn, err := net.Dial("unix", filepath.Join(dir, "charon.vici"))
		if err != nil {
			return false
		}
		conn.Close()
		return true
	})
	return c
}

// daemon is a process that an interop test starts and stops by its PID.
type daemon struct {
	name     string
	dir      string // its files: NAME.out has what it prints
	pid      int
	exited   chan struct{}
	logFiles []string // files of dir that logs shows
}

// startDaemon runs argv in a private mount namespace in which each target of binds is
// covered by its source (a bind mount), in network namespace netns ("": the host's),
// with env added to the environment; the test's end stops it. unshare, sh and ip netns
// exec all exec, so the PID is the daemon's own.
func startDaemon(t *testing.T, name, dir, netns string, env []string, binds map[string]string, argv ...string) *daemon {
	t.Helper()
	var script strings.Builder
	for _, target := range slices.Sorted(maps.Keys(binds)) {
		fmt.Fprintf(&script, "mount --bind '%s' '%s' && ", binds[target], target)
	}
	script.WriteString("exec")
	for _, a := range argv {
		fmt.Fprintf(&script, " '%s'", a)
	}
	args := []string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script.String()}
	if netns != "" {
		args = append([]string{"ip", "netns", "exec", netns}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	out, err := os.Create(filepath.Join(dir, name+".out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{name: name, dir: dir, pid: cmd.Process.Pid, exited: make(chan struct{}), logFiles: []string{name + ".out"}}
	go func() {
		cmd.Wait()
		out.Close()
		close(d.exited)
	}()
	t.Cleanup(func() { d.stop(t) })
	return d
}

// waitFor waits up to 10 s for ready, and fails the test with the daemon's logs when it
// exits or is not ready by then.
func (d *daemon) waitFor(t *testing.T, what string, ready func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ready() {
			return
		}
		select {
		case <-d.exited:
			t.Fatalf("%s exited at start:\n%s", d.name, d.logs())
		default:
		}
	}
	t.Fatalf("%s did not open %s:\n%s", d.name, what, d.logs())
}

// stop ends the daemon by its PID: SIGTERM, then SIGKILL if it lingers.
func (d *daemon) stop(t *testing.T) {
	if t.Failed() {
		t.Logf("%s's log:\n%s", d.name, d.logs())
	}
	syscall.Kill(d.pid, syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(5 * time.Second):
		syscall.Kill(d.pid, syscall.SIGKILL)
		<-d.exited
	}
}

// logs is the end of each of the daemon's log files.
func (d *daemon) logs() string {
	var b strings.Builder
	for _, f := range d.logFiles {
		data, _ := os.ReadFile(filepath.Join(d.dir, f))
		if len(data) > 12000 {
			data = data[len(data)-12000:]
		}
		fmt.Fprintf(&b, "== %s\n%s", f, data)
	}
	return b.String()
}

// run runs swanctl against this charon's vici socket. Its swanctl directory (the x509,
// x509ca and private folders --load-creds reads) is the test's directory.
func (c *charon) run(args ...string) (string, error) {
	args = append(args, "--uri", "unix://"+filepath.Join(c.dir, "charon.vici"))
	cmd := exec.Command(c.swanctl, args...)
	cmd.Env = append(os.Environ(), "SWANCTL_DIR="+c.dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// installPKI puts gw-b's certificate and private key and the CA of ikesim's test PKI
// into charon's swanctl directory, for the next load.
func (c *charon) installPKI(t *testing.T) {
	t.Helper()
	for file, folder := range map[string]string{"gw-b.pem": "x509", "gw-b.key": "private", "ca.pem": "x509ca"} {
		data, ok := assets.PKIFile(file)
		if !ok {
			t.Fatalf("the test PKI has no %s", file)
		}
		if err := os.MkdirAll(filepath.Join(c.dir, folder), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.dir, folder, file), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// must runs swanctl and fails the test when it fails.
func (c *charon) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.run(args...)
	if err != nil {
		t.Fatalf("swanctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// load replaces charon's connections and secrets with those of a swanctl.conf.
func (c *charon) load(t *testing.T, conf string) {
	t.Helper()
	f := filepath.Join(c.dir, "swanctl.conf")
	if err := os.WriteFile(f, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c.must(t, "--load-conns", "--file", f)
	c.must(t, "--load-creds", "--clear", "--noprompt", "--file", f)
}

// ikeSAs lists charon's IKE SAs as swanctl --list-sas shows them: name, state and
// SPIs.
func (c *charon) ikeSAs(t *testing.T) []swanSA {
	t.Helper()
	out := c.must(t, "--list-sas")
	var sas []swanSA
	head := regexp.MustCompile(`(?m)^(\S+): #\d+, (\w+), IKEv(\d)`)
	spis := regexp.MustCompile(`([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r`)
	for _, block := range head.FindAllStringSubmatchIndex(out, -1) {
		sa := swanSA{name: out[block[2]:block[3]], state: out[block[4]:block[5]], version: out[block[6]:block[7]]}
		if m := spis.FindStringSubmatch(out[block[1]:]); m != nil {
			sa.spiI, sa.spiR = m[1], m[2]
		}
		sas = append(sas, sa)
	}
	return sas
}

type swanSA struct{ name, state, version, spiI, spiR string }

// waitSAs waits until charon holds exactly want IKE SAs.
func (c *charon) waitSAs(t *testing.T, want int) []swanSA {
	t.Helper()
	var sas []swanSA
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if sas = c.ikeSAs(t); len(sas) == want {
			return sas
		}
	}
	t.Fatalf("charon holds %d IKE SAs, want %d: %+v", len(sas), want, sas)
	return nil
}

// swanConn is one connection of charon's swanctl.conf, facing ikesim.
type swanConn struct {
	version    int
	aggressive bool
	local      netip.Addr // charon's address
	remote     netip.AddrPort
	proposals  string
	childless  string // "", allow or force
	dpd        string
	espProps   string // "" = no children
	ahProps    string // AH instead of ESP
	localTS    string
	remoteTS   string
	certs      bool // certificates of the test PKI (charon is gw-b, ikesim gw-a), not the PSK
}

// conf writes the swanctl.conf of connection "ikesim".
func (s swanConn) conf() string {
	var b strings.Builder
	fmt.Fprintf(&b, "connections {\n  ikesim {\n    version = %d\n    aggressive = %s\n", s.version, yesNo(s.aggressive))
	fmt.Fprintf(&b, "    local_addrs = %s\n    remote_addrs = %s\n", s.local, s.remote.Addr())
	if s.remote.Port() != 0 {
		fmt.Fprintf(&b, "    remote_port = %d\n", s.remote.Port())
	}
	fmt.Fprintf(&b, "    proposals = %s\n    mobike = no\n    rekey_time = 4h\n", s.proposals)
	if s.childless != "" {
		fmt.Fprintf(&b, "    childless = %s\n", s.childless)
	}
	if s.dpd != "" {
		fmt.Fprintf(&b, "    dpd_delay = %s\n", s.dpd)
	}
	if s.certs {
		b.WriteString("    local {\n      auth = pubkey\n      id = gw-b.example\n      certs = gw-b.pem\n    }\n")
		b.WriteString("    remote {\n      auth = pubkey\n      id = gw-a.example\n    }\n")
	} else {
		b.WriteString("    local {\n      auth = psk\n      id = charon.test\n    }\n")
		b.WriteString("    remote {\n      auth = psk\n      id = ikesim.test\n    }\n")
	}
	if s.espProps != "" || s.ahProps != "" {
		props := "esp_proposals = " + s.espProps
		if s.ahProps != "" {
			props = "ah_proposals = " + s.ahProps
		}
		fmt.Fprintf(&b, "    children {\n      net {\n        local_ts = %s\n        remote_ts = %s\n        %s\n        start_action = none\n        rekey_time = 1h\n      }\n    }\n",
			s.localTS, s.remoteTS, props)
	}
	b.WriteString("  }\n}\n")
	if !s.certs {
		b.WriteString("secrets {\n  ike-ikesim {\n    id-a = charon.test\n    id-b = ikesim.test\n    secret = \"" + interopPSK + "\"\n  }\n}\n")
	}
	return b.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

const interopPSK = "ikesim-interop-psk"

// interopScenario writes the scenario ikesim plays against charon (peerScenario).
func interopScenario(t *testing.T, version int, aggressive bool, proposals string, childless bool, espProps, localTS, remoteTS string, certs bool) string {
	t.Helper()
	return peerScenario(t, peerSpec{peer: "charon", what: "strongSwan", version: version, aggressive: aggressive, proposals: proposals,
		childless: childless, esp: espProps, localTS: localTS, remoteTS: remoteTS, certs: certs})
}

// peerSpec is the connection of node ikesim with a real peer.
type peerSpec struct {
	peer, what        string // the peer's node name (its ID is NAME.test) and what it is
	version           int
	aggressive        bool
	proposals         string
	childless         bool
	esp               string // "" = no children
	localTS, remoteTS string
	certs             bool
	more              string // more lines of the connection, indented as its fields
}

// peerScenario writes the scenario ikesim plays: node ikesim against node s.peer, at
// documentation addresses that --listen and --peer map to the real ones. With certs the
// sides authenticate with the test PKI's certificates (ikesim is gw-a, the peer gw-b),
// not the PSK.
func peerScenario(t *testing.T, s peerSpec) string {
	t.Helper()
	trust, local, remote := "", "{auth: psk, id: ikesim.test}", "{auth: psk, id: "+s.peer+".test}"
	if s.certs {
		trust, local, remote = ", cacerts: [ca]", "{auth: pubkey, id: gw-a.example, certs: [gw-a]}", "{auth: pubkey, id: gw-b.example}"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `name: interop
description: ikesim against a real %s
topology:
  nodes:
    - {name: ikesim, kind: gateway, addresses: [192.0.2.1/24, %s]%s}
    - {name: %s, kind: gateway, addresses: [192.0.2.2/24, %s]%s}
  links:
    - {between: [ikesim, %s]}
connections:
  ikesim:
    tunnel:
      version: %d
      aggressive: %t
      local_addrs: [192.0.2.1]
      remote_addrs: [192.0.2.2]
      proposals: [%s]
      childless: %t
      local: %s
      remote: %s
%s`, s.what, s.localTS, trust, s.peer, s.remoteTS, trust, s.peer, s.version, s.aggressive, s.proposals, s.childless, local, remote, s.more)
	if s.esp != "" {
		fmt.Fprintf(&b, "      children:\n        net: {local_ts: [%s], remote_ts: [%s], esp_proposals: [%s], start_action: none}\n", s.localTS, s.remoteTS, s.esp)
	}
	if !s.certs {
		fmt.Fprintf(&b, "secrets:\n  - {type: ike, ids: [ikesim.test, %s.test], secret: %q}\n", s.peer, interopPSK)
	}
	p := filepath.Join(t.TempDir(), "interop.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ikeSAOf is the IKE SA ikesim brought up, from its trace.
func ikeSAOf(tr *trace.Trace) *trace.SARecord {
	for _, e := range tr.Events {
		if e.Kind == trace.KindSA && e.Op == "up" && e.SA.Type == "ike" {
			return e.SA
		}
	}
	return nil
}

// sameSA checks that charon and ikesim hold one and the same established IKE SA.
func sameSA(t *testing.T, sas []swanSA, n *liveNode, version string) {
	t.Helper()
	var sa *trace.SARecord
	n.do(func() { sa = ikeSAOf(n.host.Trace) })
	if len(sas) != 1 || sa == nil {
		t.Fatalf("charon's IKE SAs %+v, ikesim's %+v", sas, sa)
	}
	s := sas[0]
	if s.state != "ESTABLISHED" || s.version != version || s.spiI != sa.SPIi || s.spiR != sa.SPIr {
		t.Fatalf("charon holds IKE SA %+v, ikesim SPIs %s %s", s, sa.SPIi, sa.SPIr)
	}
}

// suites are the IKE proposals every interop case runs with, by IKE version. IKEv1's
// phase 1 has no AEAD cipher (RFC 2409 defines none, strongSwan offers none), so its
// modern suite is AES-256 with HMAC-SHA-384 and Curve25519; AES-GCM runs in its Quick
// Mode in TestInteropESP.
var suites = map[int][]string{
	2: {"aes128-sha256-modp2048", "aes256gcm16-prfsha384-x25519", "3des-sha1-modp1024"},
	1: {"aes128-sha256-modp2048", "aes256-sha384-x25519", "3des-sha1-modp1024"},
}

func loopback(a string, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(a), port)
}

// interopCase is one kind of IKE SA the interop tests set up.
type interopCase struct {
	name       string
	version    int
	aggressive bool
}

var interopCases = []interopCase{{"ikev2", 2, false}, {"ikev1-main", 1, false}, {"ikev1-aggressive", 1, true}}

// liveness is what a liveness check looks like in the trace: an empty INFORMATIONAL
// (IKEv2) or a DPD R-U-THERE and its ACK (IKEv1, RFC 3706). answered reports whether
// from asked and the other side answered.
func liveness(version int, from, to string) func(tr *trace.Trace) bool {
	if version == 2 {
		return func(tr *trace.Trace) bool {
			return has(tr, func(e *trace.Event) bool {
				return e.Kind == trace.KindMessage && e.From() == from && e.Exchange() == "INFORMATIONAL" && !e.Response() && e.Purpose() == "liveness"
			}) && has(tr, func(e *trace.Event) bool {
				return e.Kind == trace.KindMessage && e.From() == to && e.Exchange() == "INFORMATIONAL" && e.Response() && slices.Equal(e.Payloads(), []string{"SK"})
			})
		}
	}
	return func(tr *trace.Trace) bool {
		return has(tr, func(e *trace.Event) bool {
			return e.Kind == trace.KindMessage && e.From() == from && slices.Contains(e.Notifies(), "R-U-THERE")
		}) && has(tr, func(e *trace.Event) bool {
			return e.Kind == trace.KindMessage && e.From() == to && slices.Contains(e.Notifies(), "R-U-THERE-ACK")
		})
	}
}

// ikeDown matches the end of ikesim's IKE SA for a reason containing why.
func ikeDown(why string) func(e *trace.Event) bool {
	return func(e *trace.Event) bool {
		return e.Kind == trace.KindSA && e.Op == "down" && e.SA.Type == "ike" && strings.Contains(e.SA.Reason, why)
	}
}

// TestInteropLoopback: ikesim on 127.0.0.2 and charon on 127.0.0.1, charon on ports other
// than 500 (so every IKE message carries the non-ESP marker); an IKE SA with no Child SA
// (IKEv2: childless, RFC 6023; IKEv1: Main or Aggressive Mode alone) with each suite,
// each side initiating in turn; a liveness check answered; the delete.
func TestInteropLoopback(t *testing.T) {
	c := startCharon(t, charonOptions{port: freePort(t, "0.0.0.0"), portNATT: freePort(t, "0.0.0.0")})
	charonAt := loopback("127.0.0.1", c.port)
	for _, ic := range interopCases {
		for _, suite := range suites[ic.version] {
			ver := fmt.Sprint(ic.version)
			scenario := interopScenario(t, ic.version, ic.aggressive, suite, ic.version == 2, "", "10.77.1.1/32", "10.77.2.1/32", false)
			t.Run(ic.name+"/"+suite+"/ikesim-initiates", func(t *testing.T) {
				c.load(t, swanConn{version: ic.version, aggressive: ic.aggressive, local: charonAt.Addr(), remote: loopback("127.0.0.2", 0),
					proposals: suite}.conf())
				n := startLive(t, liveOptions{scenario: scenario, node: "ikesim", listen: loopback("127.0.0.2", freePort(t, "127.0.0.2")),
					peers: peerFlags{"charon": charonAt}, initiate: true})
				n.waitFor(t, "the IKE SA", func(tr *trace.Trace) bool { return has(tr, saUp("ike")) })
				sameSA(t, c.waitSAs(t, 1), n, ver)
				n.do(func() { n.daemon.Liveness("tunnel") })
				n.waitFor(t, "charon's answer to the liveness check", liveness(ic.version, "ikesim", "charon"))
				if err := n.shutdown(t); err != nil { // Ctrl-C: ikesim deletes the IKE SA
					t.Fatal(err)
				}
				c.waitSAs(t, 0)
				if !has(n.host.Trace, ikeDown("deleted")) {
					t.Error("ikesim's IKE SA did not end by its delete")
				}
			})
			t.Run(ic.name+"/"+suite+"/strongswan-initiates", func(t *testing.T) {
				listen := loopback("127.0.0.2", freePort(t, "127.0.0.2"))
				childless := ""
				if ic.version == 2 {
					childless = "force"
				}
				c.load(t, swanConn{version: ic.version, aggressive: ic.aggressive, local: charonAt.Addr(), remote: listen, proposals: suite,
					childless: childless, dpd: "1s"}.conf())
				n := startLive(t, liveOptions{scenario: scenario, node: "ikesim", listen: listen, peers: peerFlags{"charon": charonAt}})
				c.must(t, "--initiate", "--ike", "ikesim", "--timeout", "10")
				n.waitFor(t, "the IKE SA", func(tr *trace.Trace) bool { return has(tr, saUp("ike")) })
				sameSA(t, c.waitSAs(t, 1), n, ver)
				n.waitFor(t, "charon's liveness check, answered", liveness(ic.version, "charon", "ikesim"))
				c.must(t, "--terminate", "--ike", "ikesim", "--timeout", "10")
				n.waitFor(t, "the delete", func(tr *trace.Trace) bool { return has(tr, ikeDown("")) })
				c.waitSAs(t, 0)
			})
		}
	}
}

// TestInteropCert: an IKEv2 SA authenticated with RSA certificates of ikesim's test PKI
// on both sides (ikesim is gw-a, charon gw-b, each trusting the test CA), each side
// initiating in turn: each sends its certificate in IKE_AUTH, each accepts the other's
// chain, identity and signature, then the delete. The certificates must be valid on
// the wall clock, which live mode and charon both use.
func TestInteropCert(t *testing.T) {
	c := startCharon(t, charonOptions{port: freePort(t, "0.0.0.0"), portNATT: freePort(t, "0.0.0.0")})
	c.installPKI(t)
	charonAt := loopback("127.0.0.1", c.port)
	const suite = "aes128-sha256-modp2048"
	scenario := interopScenario(t, 2, false, suite, true, "", "10.77.1.1/32", "10.77.2.1/32", true)
	// certified: both IKE_AUTH messages carried a certificate, and charon authenticated
	// gw-a by it.
	certified := func(t *testing.T, n *liveNode) {
		t.Helper()
		for _, from := range []string{"ikesim", "charon"} {
			var sent bool
			n.do(func() {
				sent = has(n.host.Trace, func(e *trace.Event) bool {
					return e.Kind == trace.KindMessage && e.From() == from && e.Exchange() == "IKE_AUTH" && slices.Contains(e.Payloads(), "CERT")
				})
			})
			if !sent {
				t.Errorf("%s's IKE_AUTH message has no CERT payload", from)
			}
		}
		if out := c.must(t, "--list-sas"); !strings.Contains(out, "remote 'gw-a.example'") {
			t.Errorf("charon's IKE SA is not with gw-a.example:\n%s", out)
		}
	}
	for _, ikesimInitiates := range []bool{true, false} {
		t.Run(map[bool]string{true: "ikesim-initiates", false: "strongswan-initiates"}[ikesimInitiates], func(t *testing.T) {
			listen := loopback("127.0.0.2", freePort(t, "127.0.0.2"))
			c.load(t, swanConn{version: 2, local: charonAt.Addr(), remote: listen, proposals: suite, childless: "force", certs: true}.conf())
			n := startLive(t, liveOptions{scenario: scenario, node: "ikesim", listen: listen, peers: peerFlags{"charon": charonAt},
				initiate: ikesimInitiates})
			if !ikesimInitiates {
				c.must(t, "--initiate", "--ike", "ikesim", "--timeout", "10")
			}
			n.waitFor(t, "the IKE SA", func(tr *trace.Trace) bool { return has(tr, saUp("ike")) })
			sameSA(t, c.waitSAs(t, 1), n, "2")
			certified(t, n)
			if ikesimInitiates {
				if err := n.shutdown(t); err != nil { // Ctrl-C: ikesim deletes the IKE SA
					t.Fatal(err)
				}
				if !has(n.host.Trace, ikeDown("deleted")) {
					t.Error("ikesim's IKE SA did not end by its delete")
				}
			} else {
				c.must(t, "--terminate", "--ike", "ikesim", "--timeout", "10")
				n.waitFor(t, "the delete", func(tr *trace.Trace) bool { return has(tr, ikeDown("")) })
			}
			c.waitSAs(t, 0)
		})
	}
}

// netns is a network namespace joined to the host by a veth pair.
type netns struct {
	name        string
	host, guest netip.Addr // the two ends of the veth
	inner       netip.Addr // on the namespace's loopback: the address behind charon
}

// newNetns makes a namespace with a veth to the host; the test's end deletes it (and
// the veth with it).
func newNetns(t *testing.T) *netns {
	t.Helper()
	id := os.Getpid() % 100000
	sub := 1 + os.Getpid()%250
	n := &netns{name: fmt.Sprintf("ikesim-%d", id), host: netip.MustParseAddr(fmt.Sprintf("198.18.%d.1", sub)),
		guest: netip.MustParseAddr(fmt.Sprintf("198.18.%d.2", sub)), inner: netip.MustParseAddr("10.199.2.1")}
	addNetns(t, n.name)
	veth(t, fmt.Sprintf("iks%d", id), "", n.host, n.name, n.guest)
	ipCmd(t, "-n", n.name, "addr", "add", n.inner.String()+"/32", "dev", "lo")
	return n
}

// addNetns makes a network namespace with its loopback up, no reverse-path filter (for
// tunnelled traffic) and no IPv6 addresses appearing later; the test's end deletes it.
func addNetns(t *testing.T, name string) {
	t.Helper()
	exec.Command("ip", "netns", "del", name).Run() // a leftover of a killed run
	ipCmd(t, "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	ipCmd(t, "-n", name, "link", "set", "lo", "up")
	if out, err := exec.Command("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0",
		"net.ipv4.conf.default.rp_filter=0", "net.ipv6.conf.all.disable_ipv6=1").CombinedOutput(); err != nil {
		t.Fatalf("sysctl: %v\n%s", err, out)
	}
}

// veth joins namespaces a and b ("" is the host's) with a veth pair named prefix+"a" and
// prefix+"b", with addresses aAddr and bAddr in one /24.
func veth(t *testing.T, prefix, a string, aAddr netip.Addr, b string, bAddr netip.Addr) {
	t.Helper()
	in := func(ns string, args ...string) []string {
		if ns == "" {
			return args
		}
		return append([]string{"-n", ns}, args...)
	}
	ifA, ifB := prefix+"a", prefix+"b"
	peer := []string{"link", "add", ifA}
	if a != "" {
		peer = append(peer, "netns", a)
	}
	peer = append(peer, "type", "veth", "peer", "name", ifB)
	if b != "" {
		peer = append(peer, "netns", b)
	}
	ipCmd(t, peer...)
	for _, end := range []struct {
		ns, dev string
		addr    netip.Addr
	}{{a, ifA, aAddr}, {b, ifB, bAddr}} {
		ipCmd(t, in(end.ns, "addr", "add", end.addr.String()+"/24", "dev", end.dev)...)
		ipCmd(t, in(end.ns, "link", "set", end.dev, "up")...)
	}
}

// inNetns runs f on a thread of its own in network namespace name ("": the calling
// goroutine's), so that the sockets f opens are that namespace's. The thread ends with
// the goroutine.
func inNetns(name string, f func() error) error {
	if name == "" {
		return f()
	}
	runtime.LockOSThread() // never unlocked: the thread is not returned to other goroutines
	ns, err := os.Open(filepath.Join("/run/netns", name))
	if err != nil {
		return err
	}
	defer ns.Close()
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns %s: %v", name, err)
	}
	return f()
}

// ipCmd runs ip with args and fails the test when it fails.
func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// ping pings from the namespace's inner address and reports whether every request was
// answered.
func (n *netns) ping(t *testing.T, dst netip.Addr, count int) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", n.name, "ping", "-n", "-c", fmt.Sprint(count), "-i", "0.2", "-W", "3",
		"-I", n.inner.String(), dst.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("ping %s from %s in the namespace: %v\n%s", dst, n.inner, err, out)
	}
}

// TestInteropESP: charon in a network namespace with kernel-libipsec, ikesim on the host;
// an IKE SA with a Child SA (IKEv2: in IKE_AUTH; IKEv1: Quick Mode after Main or
// Aggressive Mode), pings both ways in ESP in UDP (the namespace's kernel answers
// ikesim's pings, ikesim answers the namespace's), a liveness check, the delete; each
// side initiating in turn.
func TestInteropESP(t *testing.T) {
	testenv.Tool(t, "ping", "iputils-ping")
	ns := newNetns(t)
	c := startCharon(t, charonOptions{netns: ns.name, port: 15500, portNATT: 14500, libipsec: true})
	charonAt := netip.AddrPortFrom(ns.guest, c.port)
	inner := netip.MustParseAddr("10.199.1.1") // ikesim's, from its scenario
	// Each kind of IKE SA with another suite, and ESP with and without AEAD and PFS.
	esp := map[string][2]string{
		"ikev2":            {"aes256gcm16-prfsha384-x25519", "aes256gcm16"},
		"ikev1-main":       {"aes128-sha256-modp2048", "aes256gcm16-x25519"},
		"ikev1-aggressive": {"3des-sha1-modp1024", "aes128-sha256-modp2048"},
	}
	for _, ic := range interopCases {
		suite, espProps := esp[ic.name][0], esp[ic.name][1]
		scenario := interopScenario(t, ic.version, ic.aggressive, suite, false, espProps, inner.String()+"/32", ns.inner.String()+"/32", false)
		for _, ikesimInitiates := range []bool{true, false} {
			name := ic.name + "/" + map[bool]string{true: "ikesim-initiates", false: "strongswan-initiates"}[ikesimInitiates]
			t.Run(name, func(t *testing.T) {
				listen := netip.AddrPortFrom(ns.host, freePort(t, ns.host.String()))
				c.load(t, swanConn{version: ic.version, aggressive: ic.aggressive, local: ns.guest, remote: listen, proposals: suite,
					espProps: espProps, localTS: ns.inner.String() + "/32", remoteTS: inner.String() + "/32"}.conf())
				pcap := filepath.Join(t.TempDir(), "live.pcap")
				n := startLive(t, liveOptions{scenario: scenario, node: "ikesim", listen: listen, peers: peerFlags{"charon": charonAt},
					initiate: ikesimInitiates, pcap: pcap})
				if !ikesimInitiates {
					c.must(t, "--initiate", "--child", "net", "--timeout", "10")
				}
				n.waitFor(t, "the Child SA", func(tr *trace.Trace) bool { return has(tr, saUp("child")) })
				sameSA(t, c.waitSAs(t, 1), n, fmt.Sprint(ic.version))
				if out := c.must(t, "--list-sas"); !strings.Contains(out, "INSTALLED, TUNNEL-in-UDP") {
					t.Fatalf("charon's Child SA is not installed in UDP:\n%s", out)
				}
				ns.ping(t, inner, 2) // answered by ikesim
				n.do(func() { n.host.Ping(ns.inner, 2, 100*time.Millisecond) })
				n.waitFor(t, "the namespace's echo replies", func(tr *trace.Trace) bool { return has(tr, actionHas("echo reply 2 received")) })
				n.do(func() { n.daemon.Liveness("tunnel") })
				n.waitFor(t, "charon's answer to the liveness check", liveness(ic.version, "ikesim", "charon"))
				if err := n.shutdown(t); err != nil {
					t.Fatal(err)
				}
				c.waitSAs(t, 0)
				tsharkDecrypts(t, pcap, trace.Keys(n.host.Trace), listen.Port(), v1Retransmits(n.host.Trace))
			})
		}
	}
}

// algorithmSuites are proposals with the algorithms of RFC 5930, 5282, 4309, 5529,
// 4494, 4615, 4595, 5114, 6954 and 8031, as strongSwan's Debian build has them (swanctl
// --list-algs: AES-CTR, AES-CCM, Camellia, Brainpool and Curve448 from its openssl
// plugin, AES-CMAC from cmac, HMAC-SHA1-160 from openssl).
var algorithmSuites = map[int][]string{
	2: {"aes128ctr-sha256-modp2048s256", "aes256ctr-sha1_160-ecp256bp", "aes128ccm16-prfsha256-ecp224bp",
		"aes192ccm12-prfaescmac-curve448", "aes256ccm8-prfsha384-modp2048s224", "aes128-aescmac-modp1024s160",
		"camellia256-sha512-ecp384bp", "camellia128-aescmac-ecp512bp"},
	1: {"camellia256-sha256-ecp256bp", "aes128-sha1-curve448", "aes256-sha256-modp2048s256"},
}

// TestInteropAlgorithms: an IKE SA with each of algorithmSuites between ikesim and
// charon on loopback (IKEv2 childless, IKEv1 Main Mode), ikesim initiating, then charon
// initiating the IKEv2 ones; both see the same SPIs, a liveness check is answered, and
// the delete completes.
func TestInteropAlgorithms(t *testing.T) {
	c := startCharon(t, charonOptions{port: freePort(t, "0.0.0.0"), portNATT: freePort(t, "0.0.0.0")})
	charonAt := loopback("127.0.0.1", c.port)
	for _, version := range []int{2, 1} {
		for _, suite := range algorithmSuites[version] {
			scenario := interopScenario(t, version, false, suite, version == 2, "", "10.77.1.1/32", "10.77.2.1/32", false)
			for _, ikesimInitiates := range []bool{true, false} {
				if !ikesimInitiates && version == 1 {
					continue
				}
				name := fmt.Sprintf("ikev%d/%s/%s", version, suite, map[bool]string{true: "ikesim-initiates", false: "strongswan-initiates"}[ikesimInitiates])
				t.Run(name, func(t *testing.T) {
					listen := loopback("127.0.0.2", freePort(t, "127.0.0.2"))
					childless := ""
					if version == 2 {
						childless = "force"
					}
					c.load(t, swanConn{version: version, local: charonAt.Addr(), remote: listen, proposals: suite, childless: childless}.conf())
					n := startLive(t, liveOptions{scenario: scenario, node: "ikesim", listen: listen, peers: peerFlags{"charon": charonAt},
						initiate: ikesimInitiates})
					if !ikesimInitiates {
						c.must(t, "--initiate", "--ike", "ikesim", "--timeout", "10")
					}
					n.waitFor(t, "the IKE SA", func(tr *trace.Trace) bool { return has(tr, saUp("ike")) })
					sameSA(t, c.waitSAs(t, 1), n, fmt.Sprint(version))
					n.do(func() { n.daemon.Liveness("tunnel") })
					n.waitFor(t, "charon's answer to the liveness check", liveness(version, "ikesim", "charon"))
					if err := n.shutdown(t); err != nil {
						t.Fatal(err)
					}
					c.waitSAs(t, 0)
				})
			}
		}
	}
}

// TestInteropAlgorithmsESP: Child SAs with AES-CTR, AES-CCM and Camellia with AES-CMAC
// between ikesim and a charon with kernel-libipsec in a namespace; pings cross both ways.
func TestInteropAlgorithmsESP(t *testing.T) {
	testenv.Tool(t, "ping", "iputils-ping")
	ns := newNetns(t)
	c := startCharon(t, charonOptions{netns: ns.name, port: 15500, portNATT: 14500, libipsec: true})
	charonAt := netip.AddrPortFrom(ns.guest, c.port)
	inner := netip.MustParseAddr("10.199.1.1")
	for _, tc := range []struct {
		version     int
		suite, esp  string
		tsharkCanDo bool
	}{
		{2, "aes128ctr-sha256-ecp256bp", "aes128ctr-sha256", true},
		{2, "aes256ccm16-prfsha256-curve448", "aes128ccm16-modp2048s256", false},
		{2, "camellia128-aescmac-modp2048", "camellia256-aescmac", false},
		{1, "camellia128-sha256-ecp384bp", "aes256ctr-sha1", false},
		{1, "aes128-sha256-modp2048", "aes192ccm12", false},
	} {
		t.Run(fmt.Sprintf("ikev%d/%s/%s", tc.version, tc.suite, tc.esp), func(t *testing.T) {
			scenario := interopScenario(t, tc.version, false, tc.suite, false, tc.esp, inner.String()+"/32", ns.inner.String()+"/32", false)
			listen := netip.AddrPortFrom(ns.host, freePort(t, ns.host.String()))
			c.load(t, swanConn{version: tc.version, local: ns.guest, remote: listen, proposals: tc.suite,
				espProps: tc.esp, localTS: ns.inner.String() + "/32", remoteTS: inner.String() + "/32"}.conf())
			pcap := filepath.Join(t.TempDir(), "live.pcap")
			n := startLive(t, liveOptions{scenario: scenario, node: "ikesim", listen: listen, peers: peerFlags{"charon": charonAt},
				initiate: true, pcap: pcap})
			n.waitFor(t, "the Child SA", func(tr *trace.Trace) bool { return has(tr, saUp("child")) })
			sameSA(t, c.waitSAs(t, 1), n, fmt.Sprint(tc.version))
			ns.ping(t, inner, 2) // answered by ikesim
			n.do(func() { n.host.Ping(ns.inner, 2, 100*time.Millisecond) })
			n.waitFor(t, "the namespace's echo replies", func(tr *trace.Trace) bool { return has(tr, actionHas("echo reply 2 received")) })
			if err := n.shutdown(t); err != nil {
				t.Fatal(err)
			}
			c.waitSAs(t, 0)
			if tc.tsharkCanDo {
				tsharkDecrypts(t, pcap, trace.Keys(n.host.Trace), listen.Port(), v1Retransmits(n.host.Trace))
			}
		})
	}
}

// tsharkDecrypts has tshark read the pcap of a live run with ikesim's key tables: every
// encrypted IKE message decrypts, every ESP packet decrypts to ICMP or ICMPv6 with a good ICV, and
// nothing is malformed. retransmits are IKEv1 retransmissions in the run: tshark chains
// IKEv1 IVs through the messages it sees, so it cannot decrypt those.
func tsharkDecrypts(t *testing.T, pcap string, keys trace.KeyTables, port uint16, retransmits int) {
	t.Helper()
	bin := testenv.Tool(t, "tshark", "tshark")
	args := append([]string{"-r", pcap, "-d", fmt.Sprintf("udp.port==%d,udpencap", port)}, keys.TsharkArgs()...)
	args = append(args, "-T", "fields", "-e", "isakmp.flag_e", "-e", "isakmp.nextpayload", "-e", "isakmp.enc.decrypted",
		"-e", "isakmp.hash", "-e", "esp.spi", "-e", "esp.icv_good", "-e", "icmp.type", "-e", "_ws.expert.severity", "-e", "icmpv6.type")
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var enc, dec, esp, good, icmp, expert int
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 9 {
			t.Fatalf("tshark printed %q", line)
		}
		flagE, next, decrypted, hash, spi, icv, icmpType, severity := f[0], f[1], f[2], f[3], f[4], f[5], f[6]+f[8], f[7]
		if flagE == "1" || slices.Contains(strings.Split(next, ","), "46") {
			enc++
			if decrypted != "" || (flagE == "1" && hash != "") {
				dec++
			}
		}
		if spi != "" {
			esp++
			good += strings.Count(icv, "1")
			if icmpType != "" {
				icmp++
			}
		}
		for _, v := range strings.Split(severity, ",") {
			if n, err := strconv.Atoi(v); err == nil && n >= 6291456 { // PI_WARN and above
				expert++
			}
		}
	}
	if enc == 0 || dec+retransmits < enc || expert > retransmits || esp == 0 || good != esp || icmp != esp {
		t.Errorf("tshark on the live pcap: %d encrypted IKE messages, %d decrypted; %d ESP, %d with a good ICV, %d decrypted to ICMP; %d expert warnings",
			enc, dec, esp, good, icmp, expert)
	}
}

// v1Retransmits counts the IKEv1 messages a live run sent or received again.
func v1Retransmits(tr *trace.Trace) int {
	n := 0
	for _, e := range tr.Events {
		if e.Kind == trace.KindMessage && e.Proto() == "ikev1" && e.Retransmit() {
			n++
		}
	}
	return n
}
