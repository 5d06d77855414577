package main

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/assets"
	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/sim/trace"
)

// Interop with libreswan: ikesim live against a real pluto, libreswan 4.10 from Debian's
// packages. Those conflict with strongSwan's, so the tests unpack the .deb into
// libreswanRoot (and install the libraries it needs) instead of installing it. pluto
// runs its helpers from /usr/libexec/ipsec: it runs in a private mount namespace with
// the unpacked /usr/libexec and a private /run over the real ones. pluto and ikesim live
// each have a network namespace of their own, joined by a veth, and use UDP ports 500
// and 4500 there.
//
// The kernel here has no ESP, and pluto has no userspace ESP: every Child SA that pluto
// negotiates fails at its kernel install. The tests check everything before it: the IKE
// SA (ISAKMP SA) established on both sides, and the Child SA's proposal and SPIs agreed.

// libreswanRoot is where the libreswan package lies unpacked, kept between runs.
const libreswanRoot = "/tmp/ikesim-libreswan"

// Addresses of the two namespaces' ends of the veth.
var (
	plutoAddr  = netip.MustParseAddr("198.51.100.1")
	ikesimAddr = netip.MustParseAddr("198.51.100.2")
)

// pluto is one running pluto.
type pluto struct {
	*daemon
	root string // the unpacked package
	ctl  string // its control socket, for whack and addconn
}

// startPluto unpacks libreswan when needed, makes pluto's NSS database (with gw-b's
// certificate and key and the CA of the test PKI) and starts pluto in network namespace
// ns; the test's end stops it by its PID.
func startPluto(t *testing.T, ns string) *pluto {
	t.Helper()
	certutil := testenv.Tool(t, "certutil", "libnss3-tools")
	pk12util := testenv.Tool(t, "pk12util", "libnss3-tools")
	openssl := testenv.Tool(t, "openssl", "openssl")
	root := testenv.Unpacked(t, "libreswan", libreswanRoot, func(dep string) bool { return strings.HasPrefix(dep, "lib") })
	dir, err := os.MkdirTemp("", "ikesim-pluto-") // short: the control socket's path must fit sun_path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, sub := range []string{"run/pluto", "nss"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	must := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	nss := "sql:" + filepath.Join(dir, "nss")
	must(certutil, "-N", "--empty-password", "-d", nss)
	for _, f := range []string{"ca.pem", "gw-b.pem", "gw-b.key"} {
		data, ok := assets.PKIFile(f)
		if !ok {
			t.Fatalf("the test PKI has no %s", f)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	must(certutil, "-A", "-d", nss, "-n", "ikesim-ca", "-t", "CT,,", "-a", "-i", filepath.Join(dir, "ca.pem"))
	p12 := filepath.Join(dir, "gw-b.p12")
	must(openssl, "pkcs12", "-export", "-in", filepath.Join(dir, "gw-b.pem"), "-inkey", filepath.Join(dir, "gw-b.key"),
		"-name", "gw-b", "-passout", "pass:", "-out", p12)
	must(pk12util, "-i", p12, "-d", nss, "-W", "")
	// Debian's build refuses IKEv1 unless ikev1-policy=accept; no DNSSEC, no DNS here.
	// ikepad stays at its default, yes: every IKEv1 message is padded to 4 octets.
	conf := fmt.Sprintf(`# written by ikesim's interop tests
config setup
  ikev1-policy=accept
  dnssec-enable=no
  logfile=%[1]s/pluto.log
  nssdir=%[1]s/nss
  secretsfile=%[1]s/ipsec.secrets
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "ipsec.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	secrets := fmt.Sprintf("@pluto.test @ikesim.test : PSK %q\n", interopPSK)
	if err := os.WriteFile(filepath.Join(dir, "ipsec.secrets"), []byte(secrets), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "pluto", dir, ns, nil, map[string]string{"/usr/libexec": filepath.Join(root, "usr/libexec"),
		"/run": filepath.Join(dir, "run")}, "/usr/libexec/ipsec/pluto", "--nofork", "--config", filepath.Join(dir, "ipsec.conf"))
	d.logFiles = []string{"pluto.out", "pluto.log"}
	p := &pluto{daemon: d, root: root, ctl: filepath.Join(dir, "run/pluto/pluto.ctl")}
	listening := fmt.Sprintf("adding UDP interface %%s %s:500", plutoAddr)
	d.waitFor(t, "its IKE socket", func() bool {
		return regexp.MustCompile(fmt.Sprintf(regexp.QuoteMeta(listening), `\S+`)).MatchString(p.log())
	})
	return p
}

// log is pluto's log.
func (p *pluto) log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "pluto.log"))
	return string(b)
}

// whack runs libreswan's whack against this pluto and fails the test when it fails.
func (p *pluto) whack(t *testing.T, args ...string) string {
	t.Helper()
	args = append([]string{"--ctlsocket", p.ctl}, args...)
	out, err := exec.Command(filepath.Join(p.root, "usr/libexec/ipsec/whack"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("whack %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// plutoConn is one connection of pluto, facing ikesim.
type plutoConn struct {
	name       string
	version    int
	aggressive bool
	ike, esp   string // in pluto's syntax; an ESP proposal with a DH group asks for PFS
	certs      bool   // gw-b's certificate, not the PSK
	localTS    string
	remoteTS   string
}

// add loads the connection into pluto (addconn); the test's end deletes it.
func (p *pluto) add(t *testing.T, c plutoConn) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "conn %s\n  ikev2=%s\n  left=%s\n  right=%s\n  leftsubnet=%s\n  rightsubnet=%s\n  ike=%s\n  esp=%s\n",
		c.name, yesNo(c.version == 2), plutoAddr, ikesimAddr, c.localTS, c.remoteTS, c.ike, c.esp)
	if c.aggressive {
		b.WriteString("  aggressive=yes\n")
	}
	if c.certs {
		b.WriteString("  authby=rsasig\n  leftid=@gw-b.example\n  leftcert=gw-b\n  rightid=@gw-a.example\n")
	} else {
		b.WriteString("  authby=secret\n  leftid=@pluto.test\n  rightid=@ikesim.test\n")
	}
	f := filepath.Join(p.dir, c.name+".conf")
	if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(p.root, "usr/libexec/ipsec/addconn"), "--config", f, "--ctlsocket", p.ctl, c.name)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("addconn %s: %v\n%s", c.name, err, out)
	}
	t.Cleanup(func() { p.remove(c.name) })
}

// remove deletes a connection with its SAs, if pluto still has it.
func (p *pluto) remove(conn string) {
	exec.Command(filepath.Join(p.root, "usr/libexec/ipsec/whack"), "--ctlsocket", p.ctl, "--delete", "--name", conn).Run()
}

// lines are the lines of pluto's log about connection conn that match re.
func (p *pluto) lines(conn string, re *regexp.Regexp) [][]string {
	var out [][]string
	for _, l := range strings.Split(p.log(), "\n") {
		if strings.Contains(l, `"`+conn+`"`) {
			if m := re.FindStringSubmatch(l); m != nil {
				out = append(out, m)
			}
		}
	}
	return out
}

// waitLog waits until pluto's log has a line about conn that matches re, and returns
// its submatches.
func (p *pluto) waitLog(t *testing.T, conn, what string, re *regexp.Regexp) []string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := p.lines(conn, re); len(m) > 0 {
			return m[0]
		}
	}
	var status []string
	for _, l := range strings.Split(p.whack(t, "--status"), "\n") {
		if strings.Contains(l, `"`+conn+`"`) {
			status = append(status, l)
		}
	}
	conf, _ := os.ReadFile(filepath.Join(p.dir, conn+".conf"))
	t.Fatalf("pluto's log says nothing of %s for %s:\n%s\n== %s.conf\n%s== whack --status\n%s", what, conn, p.logs(), conn, conf,
		strings.Join(status, "\n"))
	return nil
}

// established lists pluto's established IKE SAs (ISAKMP SAs) of conn, as whack
// --showstates has them.
func (p *pluto) established(t *testing.T, conn string) []string {
	t.Helper()
	var sas []string
	for _, l := range strings.Split(p.whack(t, "--showstates"), "\n") {
		if strings.Contains(l, `"`+conn+`"`) && (strings.Contains(l, "(IKE SA established)") || strings.Contains(l, "(established IKE SA)")) {
			sas = append(sas, l)
		}
	}
	return sas
}

var (
	plutoEstablished = regexp.MustCompile(`#(\d+): (?:responder established IKE SA|initiator established IKE SA|IKE SA established).*`)
	plutoAddSA       = regexp.MustCompile(`Add SA esp\.([0-9a-f]+)@([0-9.]+).*`)
	plutoESPChosen   = regexp.MustCompile(`proposal 1:ESP=(\S+) SPI=([0-9a-f]+) chosen`)
	plutoAlgorithm   = regexp.MustCompile(`algorithm newest: (\S+)`)
)

// bothEstablished checks that pluto and ikesim hold the IKE SA of conn: pluto's log
// says it is established, whack --status shows it with algorithms alg, and ikesim's
// trace has it up. With stable false pluto may have ended it already (it drops an IKE SA
// whose Child SA it could not install).
func bothEstablished(t *testing.T, p *pluto, n *liveNode, conn, alg string, stable bool) {
	t.Helper()
	n.waitFor(t, "the IKE SA", func(tr *trace.Trace) bool { return has(tr, saUp("ike")) })
	m := p.waitLog(t, conn, "an established IKE SA", plutoEstablished)
	t.Logf("pluto: %s", m[0])
	if !stable {
		return
	}
	for deadline := time.Now().Add(10 * time.Second); len(p.established(t, conn)) != 1; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("whack --showstates shows no established IKE SA of %s:\n%s", conn, p.whack(t, "--showstates"))
		}
	}
	var got []string
	for _, l := range strings.Split(p.whack(t, "--status"), "\n") {
		if m := plutoAlgorithm.FindStringSubmatch(l); m != nil && strings.Contains(l, `"`+conn+`"`) {
			got = append(got, m[1])
		}
	}
	if !slices.Equal(got, []string{alg}) {
		t.Errorf("whack --status: the IKE SA of %s has algorithms %q, want %s", conn, got, alg)
	}
	t.Logf("whack --showstates: %s; --status: algorithm newest: %s", p.established(t, conn), got)
}

// offeredSPIs are the ESP SPIs ikesim put in the SA payloads it sent: its inbound SPI
// of each Child SA it negotiated.
func offeredSPIs(n *liveNode) map[uint32]bool {
	spis := map[uint32]bool{}
	n.do(func() {
		for _, e := range n.host.Trace.Events {
			if e.Kind != trace.KindMessage || e.From() != "ikesim" || e.Fields() == nil {
				continue
			}
			e.Fields().Walk(func(f *ike.Field, _ int) {
				if f.Name == "SPI" && f.Length == 4 {
					if v, err := strconv.ParseUint(f.Value, 16, 32); err == nil {
						spis[uint32(v)] = true
					}
				}
			})
		}
	})
	return spis
}

// childAgreed checks the Child SA that pluto negotiated and failed to install: it sends
// ESP to ikesim with an SPI that ikesim chose, and, where pluto chose the proposal (as
// the IKEv2 responder), it chose espAlg (its name in pluto's log, or the start of it).
func childAgreed(t *testing.T, p *pluto, n *liveNode, conn, espAlg string) {
	t.Helper()
	m := p.waitLog(t, conn, "the Child SA's kernel install", plutoAddSA)
	spi, _ := strconv.ParseUint(m[1], 16, 32)
	if m[2] != ikesimAddr.String() || !offeredSPIs(n)[uint32(spi)] {
		t.Errorf("pluto installs its outbound SA esp.%s@%s; ikesim at %s chose SPIs %v", m[1], m[2], ikesimAddr, offeredSPIs(n))
	}
	t.Logf("pluto: %s; ikesim's SPIs %x", m[0], slices.Sorted(maps.Keys(offeredSPIs(n))))
	// pluto writes an SPI with its leading zeros in one line and without them in the other:
	// compare the numbers.
	if chosen := p.lines(conn, plutoESPChosen); len(chosen) > 0 && (!strings.HasPrefix(chosen[0][1], espAlg) || !sameHex(chosen[0][2], m[1])) {
		t.Errorf("pluto chose ESP=%s with SPI %s, want %s with %s", chosen[0][1], chosen[0][2], espAlg, m[1])
	}
}

// sameHex reports whether two hexadecimal numbers are equal, whatever their leading zeros.
func sameHex(a, b string) bool {
	x, errA := strconv.ParseUint(a, 16, 64)
	y, errB := strconv.ParseUint(b, 16, 64)
	return errA == nil && errB == nil && x == y
}

// libreswanPair is pluto and the namespace for ikesim live, joined by a veth.
func libreswanPair(t *testing.T) (*pluto, string) {
	t.Helper()
	testenv.InteropLock(t)
	testenv.Tool(t, "ip", "iproute2")
	id := os.Getpid() % 100000
	plutoNS, liveNS := fmt.Sprintf("ikesim-pluto-%d", id), fmt.Sprintf("ikesim-live-%d", id)
	addNetns(t, plutoNS)
	addNetns(t, liveNS)
	veth(t, fmt.Sprintf("ikl%d", id), plutoNS, plutoAddr, liveNS, ikesimAddr)
	return startPluto(t, plutoNS), liveNS
}

// libreswanCase is one kind of IKE SA the libreswan tests set up, with its proposals in
// ikesim's syntax and pluto's, and pluto's names of the IKE SA's algorithms and the
// Child SA's (whack --status, and its log).
type libreswanCase struct {
	name              string
	version           int
	aggressive, certs bool
	ike, plutoIKE     string
	esp, plutoESP     string
	alg, espAlg       string
}

var libreswanCases = []libreswanCase{
	{"ikev2-psk", 2, false, false, "aes128-sha256-modp2048", "aes128-sha2_256-modp2048", "aes128-sha256", "aes128-sha2_256",
		"AES_CBC_128-HMAC_SHA2_256-MODP2048", "AES_CBC_128-HMAC_SHA2_256_128-DISABLED"},
	// pluto's log names AES-GCM with a 16-octet ICV AES_GCM_C (A and B are the 8- and
	// 12-octet ICVs) in the ESP proposal it chose, and AES_GCM_16 in whack --status.
	{"ikev2-aead", 2, false, false, "aes256gcm16-prfsha384-x25519", "aes_gcm256-sha2_384-dh31", "aes256gcm16", "aes_gcm256",
		"AES_GCM_16_256-HMAC_SHA2_384-DH31", "AES_GCM_C_256-DISABLED"},
	{"ikev2-cert", 2, false, true, "aes256-sha384-ecp256", "aes256-sha2_384-ecp256", "aes256-sha256", "aes256-sha2_256",
		"AES_CBC_256-HMAC_SHA2_384-DH19", "AES_CBC_256-HMAC_SHA2_256_128-DISABLED"},
	{"ikev1-main-pfs", 1, false, false, "3des-sha1-modp1536", "3des-sha1-modp1536", "3des-sha1-modp1536", "3des-sha1-modp1536",
		"3DES_CBC_192-HMAC_SHA1-MODP1536", ""},
	{"ikev1-aggressive", 1, true, false, "aes128-sha256-modp2048", "aes128-sha2_256-modp2048", "aes128-sha1-modp2048", "aes128-sha1-modp2048",
		"AES_CBC_128-HMAC_SHA2_256-MODP2048", ""},
}

// Traffic selectors of the tests' Child SAs.
const (
	plutoTS  = "10.99.1.1/32"
	ikesimTS = "10.99.2.1/32"
)

// TestInteropLibreswan: each kind of IKE SA between ikesim and pluto, each side
// initiating in turn. The IKE SA comes up on both sides (pluto's log and whack --status,
// ikesim's trace); where pluto gets to the Child SA, its proposal and SPIs agree with
// ikesim's; Ctrl-C on ikesim deletes it on both sides. In IKEv2 a pluto that initiates
// sends no Child SA in IKE_AUTH (its omit-v2-ike-auth-child impairment), so that its
// IKE SA stays up without the kernel install: TestInteropLibreswanStale has the Child SA.
func TestInteropLibreswan(t *testing.T) {
	p, ns := libreswanPair(t)
	listen := netip.AddrPortFrom(ikesimAddr, ike.PortIKE)
	peer := peerFlags{"pluto": netip.AddrPortFrom(plutoAddr, ike.PortIKE)}
	serial := 0
	for _, lc := range libreswanCases {
		for _, ikesimInitiates := range []bool{true, false} {
			t.Run(lc.name+"/"+map[bool]string{true: "ikesim-initiates", false: "libreswan-initiates"}[ikesimInitiates], func(t *testing.T) {
				serial++
				conn := fmt.Sprintf("%s-%d", lc.name, serial)
				p.add(t, plutoConn{name: conn, version: lc.version, aggressive: lc.aggressive, ike: lc.plutoIKE, esp: lc.plutoESP,
					certs: lc.certs, localTS: plutoTS, remoteTS: ikesimTS})
				childless := lc.version == 2 && !ikesimInitiates
				scenario := peerScenario(t, peerSpec{peer: "pluto", what: "libreswan", version: lc.version, aggressive: lc.aggressive,
					proposals: lc.ike, childless: childless, esp: lc.esp, localTS: ikesimTS, remoteTS: plutoTS, certs: lc.certs})
				n := startLiveIn(t, ns, liveOptions{scenario: scenario, node: "ikesim", listen: listen, peers: peer, initiate: ikesimInitiates})
				if !ikesimInitiates {
					if childless {
						p.whack(t, "--impair", "omit-v2-ike-auth-child")
						t.Cleanup(func() { p.whack(t, "--impair", "none") })
					}
					p.whack(t, "--name", conn, "--initiate", "--asynchronous")
				}
				bothEstablished(t, p, n, conn, lc.alg, true)
				if !childless {
					childAgreed(t, p, n, conn, lc.espAlg)
				}
				if err := n.shutdown(t); err != nil { // Ctrl-C
					t.Fatal(err)
				}
				if !has(n.host.Trace, ikeDown("deleted")) {
					t.Error("ikesim's IKE SA did not end by its delete")
				}
				for deadline := time.Now().Add(10 * time.Second); len(p.established(t, conn)) > 0; time.Sleep(50 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("after ikesim's delete pluto still holds %q", p.established(t, conn))
					}
				}
			})
		}
	}
}

// TestInteropLibreswanStale: pluto initiates an IKEv2 SA with a Child SA. ikesim
// installs the Child SA; pluto cannot, and drops its IKE SA without a Delete and starts
// another, and again five seconds later. ikesim's dead peer detection (a second of
// silence, three tries half a second apart) ends each IKE SA that pluto left behind:
// they do not accumulate, and when pluto stops, none is left.
func TestInteropLibreswanStale(t *testing.T) {
	p, ns := libreswanPair(t)
	lc := libreswanCases[0]
	const conn = "stale"
	p.add(t, plutoConn{name: conn, version: 2, ike: lc.plutoIKE, esp: lc.plutoESP, localTS: plutoTS, remoteTS: ikesimTS})
	scenario := peerScenario(t, peerSpec{peer: "pluto", what: "libreswan", version: 2, proposals: lc.ike, esp: lc.esp,
		localTS: ikesimTS, remoteTS: plutoTS, more: "      dpd_delay: 1s\n      retransmit: {timeout: 0.5s, base: 1, tries: 3}\n"})
	n := startLiveIn(t, ns, liveOptions{scenario: scenario, node: "ikesim", listen: netip.AddrPortFrom(ikesimAddr, ike.PortIKE),
		peers: peerFlags{"pluto": netip.AddrPortFrom(plutoAddr, ike.PortIKE)}})
	p.whack(t, "--name", conn, "--initiate", "--asynchronous")
	bothEstablished(t, p, n, conn, lc.alg, false)
	n.waitFor(t, "the Child SA", func(tr *trace.Trace) bool { return has(tr, saUp("child")) })
	childAgreed(t, p, n, conn, lc.espAlg)
	var child *trace.SARecord
	n.do(func() {
		for _, e := range n.host.Trace.Events {
			if saUp("child")(e) && child == nil {
				child = e.SA
			}
		}
	})
	in, _ := strconv.ParseUint(child.SPIIn, 16, 32)
	if m := p.lines(conn, plutoAddSA); len(m) == 0 || m[0][1] != strconv.FormatUint(in, 16) {
		t.Errorf("pluto's first outbound ESP SA is %v, ikesim's first inbound SPI %s", m, child.SPIIn)
	}
	if child.Proposal != lc.esp {
		t.Errorf("ikesim's Child SA has %s, want %s", child.Proposal, lc.esp)
	}
	n.waitFor(t, "a third IKE SA from pluto and the end of two stale ones", func(tr *trace.Trace) bool {
		return count(tr, saUp("ike")) >= 3 && count(tr, ikeDown("")) >= 2
	})
	p.remove(conn) // no more new IKE SAs
	n.waitFor(t, "the end of every IKE SA pluto left behind", func(tr *trace.Trace) bool {
		return count(tr, ikeDown("")) == count(tr, saUp("ike"))
	})
	held, most := 0, 0
	n.do(func() {
		for _, e := range n.host.Trace.Events {
			switch {
			case saUp("ike")(e):
				held++
				most = max(most, held)
			case ikeDown("")(e):
				held--
				if e.SA.Reason != "peer did not answer" {
					t.Errorf("ikesim's IKE SA %s/%s ended: %s; want by dead peer detection", e.SA.SPIi, e.SA.SPIr, e.SA.Reason)
				}
			}
		}
	})
	if most > 3 {
		t.Errorf("ikesim held %d IKE SAs with pluto at once", most)
	}
}

// TestInteropLibreswanMismatch: pluto and ikesim share no IKE proposal. ikesim as the
// responder answers NO_PROPOSAL_CHOSEN, which pluto, as libreswan does, takes for a
// possible forgery and ignores while it retransmits; as the initiator it gets pluto's
// NO_PROPOSAL_CHOSEN and gives up. Neither side has an IKE SA.
func TestInteropLibreswanMismatch(t *testing.T) {
	p, ns := libreswanPair(t)
	for _, ikesimInitiates := range []bool{true, false} {
		t.Run(map[bool]string{true: "ikesim-initiates", false: "libreswan-initiates"}[ikesimInitiates], func(t *testing.T) {
			conn := "mismatch-" + map[bool]string{true: "i", false: "r"}[ikesimInitiates]
			p.add(t, plutoConn{name: conn, version: 2, ike: "aes256-sha2_512-modp4096", esp: "aes256-sha2_512", localTS: plutoTS, remoteTS: ikesimTS})
			scenario := peerScenario(t, peerSpec{peer: "pluto", what: "libreswan", version: 2, proposals: "aes128-sha256-modp2048",
				esp: "aes128-sha256", localTS: ikesimTS, remoteTS: plutoTS})
			n := startLiveIn(t, ns, liveOptions{scenario: scenario, node: "ikesim", listen: netip.AddrPortFrom(ikesimAddr, ike.PortIKE),
				peers: peerFlags{"pluto": netip.AddrPortFrom(plutoAddr, ike.PortIKE)}, initiate: ikesimInitiates})
			from := "pluto"
			if !ikesimInitiates {
				p.whack(t, "--name", conn, "--initiate", "--asynchronous")
				from = "ikesim"
			}
			n.waitFor(t, "NO_PROPOSAL_CHOSEN", func(tr *trace.Trace) bool {
				return has(tr, func(e *trace.Event) bool {
					return e.Kind == trace.KindMessage && e.From() == from && e.Exchange() == "IKE_SA_INIT" && e.Response() &&
						strings.Contains(e.Summary(), "N(NO_PROPOSAL_CHOSEN)")
				})
			})
			if ikesimInitiates {
				p.waitLog(t, conn, "the refused proposal", regexp.MustCompile(`no local proposal matches remote proposals 1:IKE:ENCR=AES_CBC_128;PRF=HMAC_SHA2_256;INTEG=HMAC_SHA2_256_128;DH=MODP2048`))
				n.waitFor(t, "the failure", func(tr *trace.Trace) bool {
					return has(tr, func(e *trace.Event) bool {
						return e.Kind == trace.KindError && strings.Contains(e.Text, "NO_PROPOSAL_CHOSEN")
					})
				})
			} else {
				p.waitLog(t, conn, "ikesim's answer", regexp.MustCompile(`dropping unexpected IKE_SA_INIT message containing NO_PROPOSAL_CHOSEN`))
			}
			n.do(func() {
				if has(n.host.Trace, saUp("ike")) {
					t.Error("ikesim has an IKE SA")
				}
			})
			if sas := p.established(t, conn); len(sas) > 0 {
				t.Errorf("pluto has IKE SAs: %q", sas)
			}
		})
	}
}
