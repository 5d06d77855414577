package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/assets"
	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
	"github.com/ikesim/ikesim/sim/trace"
)

// Real configurations, real outcome: a pair of swanctl.conf files runs in two charon
// daemons (each in a network namespace, joined by a veth, with kernel-libipsec for ESP),
// and the same files are imported into ikesim and simulated with the same steps
// (initiate, ping, terminate). The IKE messages charon logged on the initiator
// ("generating ...", "parsed ...") must be those of the simulation: the same exchanges,
// requests and responses in order, with the same payload types (notifies by type), the
// announcements of what an implementation supports set apart (config.Optional); and
// the chosen IKE proposal and the Child SAs (algorithms, mode, selectors) must be the
// same. Run it under the interop lock: flock /tmp/ikesim-interop.lock go test ...

// configPair is one case: the two configurations, with the addresses below.
type configPair struct {
	name     string
	conn     string // node a's connection
	a, b     string // swanctl.conf of node a (the initiator) and node b
	child    string // the child to initiate ("" for the IKE SA alone)
	ping     bool   // ping from a's inner address to b's
	fail     bool   // the IKE SA (or the Child SA) must not come up
	option   string // when fail: the option the diagnosis names
	pki      map[string][]string
	timeline string // the simulation's timeline, as the test drives charon
}

const (
	pairA, pairB   = "192.168.77.1", "192.168.77.2"
	innerA, innerB = "10.77.1.1", "10.77.2.1"
)

// siteConf is a site-to-site connection "site" between two inner addresses; auth is
// its local and remote sections, secrets its secrets section.
func siteConf(me, peer, lan, peerLAN, proposals, auth, secrets string) string {
	return fmt.Sprintf(`connections {
  site {
    version = 2
    local_addrs = %s
    remote_addrs = %s
    proposals = %s
    encap = yes
    mobike = no
%s
    children {
      net {
        local_ts = %s/32
        remote_ts = %s/32
        esp_proposals = aes128-sha256
        start_action = none
      }
    }
  }
}
%s`, me, peer, proposals, auth, lan, peerLAN, secrets)
}

// psk is the auth sections and the secret of a pair with a pre-shared key.
func psk(me, peer string) (auth, secrets string) {
	return fmt.Sprintf(`    local {
      auth = psk
      id = %s
    }
    remote {
      auth = psk
      id = %s
    }`, me, peer), fmt.Sprintf(`secrets {
  ike-1 {
    id-1 = %s
    id-2 = %s
    secret = "interop-config-psk"
  }
}
`, me, peer)
}

// certAuth is the auth sections of a pair with the test PKI's certificates.
func certAuth(me, peer string) string {
	return fmt.Sprintf(`    fragmentation = no
    local {
      auth = pubkey
      id = %s.example
      certs = %s.pem
    }
    remote {
      auth = pubkey
      id = %s.example
    }`, me, me, peer)
}

func pskPair(version, proposalsA, proposalsB string, idA, idB string) (a, b string) {
	authA, secA := psk(idA, idB)
	authB, secB := psk(idB, idA)
	a = strings.Replace(siteConf(pairA, pairB, innerA, innerB, proposalsA, authA, secA), "version = 2", "version = "+version, 1)
	b = strings.Replace(siteConf(pairB, pairA, innerB, innerA, proposalsB, authB, secB), "version = 2", "version = "+version, 1)
	return a, b
}

var configPairs = []configPair{
	{name: "psk", conn: "site", child: "net", ping: true, timeline: `timeline:
  - {at: 0s, initiate: {node: node-a, connection: site, child: net}}
  - {at: 1s, ping: {from: host-node-a, to: host-node-b, count: 3, interval: 0.3s}}
  - {at: 3s, delete: {node: node-a, connection: site}}
`},
	{name: "certificates", conn: "site", child: "net", ping: true,
		pki: map[string][]string{"a": {"x509/gw-a.pem", "private/gw-a.key", "x509ca/ca.pem"}, "b": {"x509/gw-b.pem", "private/gw-b.key", "x509ca/ca.pem"}},
		a:   siteConf(pairA, pairB, innerA, innerB, "aes256-sha384-ecp384", certAuth("gw-a", "gw-b"), ""),
		b:   siteConf(pairB, pairA, innerB, innerA, "aes256-sha384-ecp384", certAuth("gw-b", "gw-a"), ""),
		timeline: `timeline:
  - {at: 0s, initiate: {node: node-a, connection: site, child: net}}
  - {at: 1s, ping: {from: host-node-a, to: host-node-b, count: 3, interval: 0.3s}}
  - {at: 3s, delete: {node: node-a, connection: site}}
`},
	{name: "virtual-ip", conn: "home", child: "net",
		a: `connections {
  home {
    local_addrs = ` + pairA + `
    remote_addrs = ` + pairB + `
    proposals = aes128-sha256-modp2048
    encap = yes
    mobike = no
    vips = 0.0.0.0
    local {
      auth = psk
      id = carol@example.org
    }
    remote {
      auth = psk
      id = gw.example
    }
    children {
      net {
        local_ts = dynamic
        remote_ts = ` + innerB + `/32
        esp_proposals = aes128gcm16
      }
    }
  }
}
secrets {
  ike-1 {
    id-1 = carol@example.org
    id-2 = gw.example
    secret = "pool-psk"
  }
}
`,
		b: `connections {
  rw {
    local_addrs = ` + pairB + `
    pools = office
    proposals = aes128-sha256-modp2048
    encap = yes
    mobike = no
    local {
      auth = psk
      id = gw.example
    }
    remote {
      auth = psk
    }
    children {
      net {
        local_ts = ` + innerB + `/32
        remote_ts = dynamic
        esp_proposals = aes128gcm16
      }
    }
  }
}
pools {
  office {
    addrs = 10.3.0.0/24
    dns = 10.77.2.53
  }
}
secrets {
  ike-1 {
    id-1 = carol@example.org
    id-2 = gw.example
    secret = "pool-psk"
  }
}
`,
		timeline: `timeline:
  - {at: 0s, initiate: {node: node-a, connection: home, child: net}}
  - {at: 3s, delete: {node: node-a, connection: home}}
`},
	// strongSwan's initiator gives up at the unauthenticated NO_PROPOSAL_CHOSEN; ikesim's
	// keeps retransmitting for a while, as RFC 7296, Section 2.21.1 advises (a forged
	// error must not end an exchange): the simulation stops before its first
	// retransmission, after 2 s.
	{name: "proposal-mismatch", conn: "site", child: "net", fail: true, option: "proposals", timeline: `timeline:
  - {at: 0s, initiate: {node: node-a, connection: site, child: net}}
duration: 1.5s
`},
	// The IKE SA comes up, the Child SA in IKE_AUTH does not: no common ESP proposal.
	{name: "esp-proposal-mismatch", conn: "site", child: "net", fail: true, option: "esp_proposals", timeline: `timeline:
  - {at: 0s, initiate: {node: node-a, connection: site, child: net}}
duration: 1.5s
`},
	{name: "ikev1-main", conn: "site", child: "net", ping: true, timeline: `timeline:
  - {at: 0s, initiate: {node: node-a, connection: site, child: net}}
  - {at: 1s, ping: {from: host-node-a, to: host-node-b, count: 3, interval: 0.3s}}
  - {at: 3s, delete: {node: node-a, connection: site}}
`},
	{name: "ikev1-aggressive", conn: "site", child: "net", ping: true, timeline: `timeline:
  - {at: 0s, initiate: {node: node-a, connection: site, child: net}}
  - {at: 1s, ping: {from: host-node-a, to: host-node-b, count: 3, interval: 0.3s}}
  - {at: 3s, delete: {node: node-a, connection: site}}
`},
}

// nsPair is two network namespaces joined by a veth: node a and node b, each with its
// inner address on its loopback.
func nsPair(t *testing.T) (a, b string) {
	t.Helper()
	id := os.Getpid() % 100000
	a, b = fmt.Sprintf("ikscfa-%d", id), fmt.Sprintf("ikscfb-%d", id)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range []string{a, b} {
		exec.Command("ip", "netns", "del", ns).Run() // a leftover of a killed run
		run("netns", "add", ns)
		ns := ns
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	run("link", "add", "va", "netns", a, "type", "veth", "peer", "name", "vb", "netns", b)
	for _, n := range []struct{ ns, dev, addr, inner string }{{a, "va", pairA, innerA}, {b, "vb", pairB, innerB}} {
		run("-n", n.ns, "addr", "add", n.addr+"/24", "dev", n.dev)
		run("-n", n.ns, "addr", "add", n.inner+"/32", "dev", "lo")
		run("-n", n.ns, "link", "set", "lo", "up")
		run("-n", n.ns, "link", "set", n.dev, "up")
		if out, err := exec.Command("ip", "netns", "exec", n.ns, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0",
			"net.ipv4.conf.default.rp_filter=0", "net.ipv6.conf.all.disable_ipv6=1").CombinedOutput(); err != nil {
			t.Fatalf("sysctl: %v\n%s", err, out)
		}
	}
	return a, b
}

// logLine is one message charon's log shows: "generating IKE_AUTH request 1 [ IDi ... ]".
var logLine = regexp.MustCompile(`(generating|parsed) (\S+) (request|response) \d+ \[(.*)\]`)

// charonNames maps charon's short names (its log's) to the trace's.
var (
	charonExchanges = map[string]string{"ID_PROT": "Main Mode", "AGGRESSIVE": "Aggressive Mode", "QUICK_MODE": "Quick Mode",
		"INFORMATIONAL_V1": "Informational", "TRANSACTION": "Transaction"}
	charonNotifies = map[string]string{"NO_PROP": "NO_PROPOSAL_CHOSEN", "AUTH_FAILED": "AUTHENTICATION_FAILED",
		"TS_UNACCEPT": "TS_UNACCEPTABLE", "INVAL_KE": "INVALID_KE_PAYLOAD", "INVAL_SYN": "INVALID_SYNTAX",
		"PLD_MAL": "PAYLOAD_MALFORMED", "INVAL_ID": "INVALID_ID_INFORMATION", "INT_ADDR_FAIL": "INTERNAL_ADDRESS_FAILURE",
		"FAIL_CP_REQ": "FAILED_CP_REQUIRED", "NO_CHILD_SA": "CHILD_SA_NOT_FOUND", "TEMP_FAIL": "TEMPORARY_FAILURE",
		"INIT_CONTACT": "INITIAL_CONTACT", "INITIAL_CONTACT": "INITIAL_CONTACT", "NATD_S_IP": "NAT_DETECTION_SOURCE_IP",
		"NATD_D_IP": "NAT_DETECTION_DESTINATION_IP", "COOKIE": "COOKIE", "USE_TRANSP": "USE_TRANSPORT_MODE", "REKEY_SA": "REKEY_SA",
		"ESP_TFC_PAD_N": "ESP_TFC_PADDING_NOT_SUPPORTED", "NON_FIRST_FRAG": "NON_FIRST_FRAGMENTS_ALSO",
		"MOBIKE_SUP": "MOBIKE_SUPPORTED", "NO_ADD_ADDR": "NO_ADDITIONAL_ADDRESSES", "MULT_AUTH": "MULTIPLE_AUTH_SUPPORTED",
		"REDIR_SUP": "REDIRECT_SUPPORTED", "EAP_ONLY": "EAP_ONLY_AUTHENTICATION", "CHDLESS_SUP": "CHILDLESS_IKEV2_SUPPORTED",
		"MSG_ID_SYN_SUP": "IKEV2_MESSAGE_ID_SYNC_SUPPORTED", "FRAG_SUP": "IKEV2_FRAGMENTATION_SUPPORTED",
		"HASH_ALG": "SIGNATURE_HASH_ALGORITHMS", "DPD": "R_U_THERE", "DPD_ACK": "R_U_THERE_ACK"}
	charonPayloads = map[string]string{"No": "Nonce"}
)

// charonMessages reads the IKE messages a charon log shows, in order, in the trace's
// names; a payload charon lists inside an encrypted one stands in its place.
func charonMessages(t *testing.T, log string) []config.Message {
	t.Helper()
	var out []config.Message
	for _, m := range logLine.FindAllStringSubmatch(log, -1) {
		ex := m[2]
		if n, ok := charonExchanges[ex]; ok {
			ex = n
		}
		msg := config.Message{Exchange: ex, Response: m[3] == "response", Proto: "ikev2"}
		if strings.HasSuffix(m[2], "_V1") || charonExchanges[m[2]] != "" {
			msg.Proto = "ikev1"
		}
		for _, tok := range tokens(strings.TrimSpace(m[4])) {
			switch {
			case strings.HasPrefix(tok, "N("):
				name := strings.TrimSuffix(strings.TrimPrefix(tok, "N("), ")")
				if n, ok := charonNotifies[name]; ok {
					name = n
				}
				tok = "N(" + name + ")"
			case strings.HasPrefix(tok, "CP"):
				tok = "CP"
			case strings.HasPrefix(tok, "EAP"):
				tok = "EAP"
			default:
				if n, ok := charonPayloads[tok]; ok {
					tok = n
				}
			}
			msg.Payloads = append(msg.Payloads, tok)
		}
		out = append(out, msg)
	}
	return out
}

// tokens splits charon's payload list at the blanks outside parentheses.
func tokens(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s + " " {
		switch {
		case r == '(':
			depth++
		case r == ')':
			depth--
		case r == ' ' && depth == 0:
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// listSA is what swanctl --list-sas --raw says of an IKE SA and its Child SAs.
type listSA struct {
	ike      map[string]string
	children []map[string]string
}

var rawKV = regexp.MustCompile(`([a-z-]+)=(\[[^\]]*\]|\S+)`)

// listSAs reads the first IKE SA of swanctl --list-sas --raw: its settings, then each
// child-sas entry's.
func listSAs(t *testing.T, c *charon) listSA {
	t.Helper()
	out := c.must(t, "--list-sas", "--raw")
	var sa listSA
	head, children, _ := strings.Cut(out, "child-sas {")
	sa.ike = map[string]string{}
	for _, m := range rawKV.FindAllStringSubmatch(head, -1) {
		sa.ike[m[1]] = m[2]
	}
	for _, part := range strings.Split(children, "name=")[1:] {
		ch := map[string]string{}
		for _, m := range rawKV.FindAllStringSubmatch("name="+part, -1) {
			ch[m[1]] = m[2]
		}
		sa.children = append(sa.children, ch)
	}
	return sa
}

// charonAlgs are charon's names of the algorithms the cases use.
var (
	charonEncr  = map[uint16]string{ike.ENCR_AES_CBC: "AES_CBC", ike.ENCR_AES_GCM_16: "AES_GCM_16"}
	charonInteg = map[uint16]string{ike.AUTH_HMAC_SHA2_256_128: "HMAC_SHA2_256_128", ike.AUTH_HMAC_SHA2_384_192: "HMAC_SHA2_384_192"}
)

// saFacts writes an SA's algorithms and selectors as charon's --list-sas does.
func saFacts(r *trace.SARecord) string {
	s := fmt.Sprintf("%s-%d", charonEncr[r.Encr], r.EncrKeyBits)
	if r.Integ != 0 {
		s += "/" + charonInteg[r.Integ]
	}
	if r.Type == "child" {
		s += fmt.Sprintf(" %s %v %v", strings.ToUpper(r.Mode), r.LocalTS, r.RemoteTS)
	}
	return s
}

func charonFacts(m map[string]string, child bool) string {
	s := m["encr-alg"] + "-" + m["encr-keysize"]
	if m["integ-alg"] != "" {
		s += "/" + m["integ-alg"]
	}
	if child {
		ts := func(v string) string { return "[" + strings.Trim(v, "[] ") + "]" }
		s += fmt.Sprintf(" %s %s %s", m["mode"], ts(m["local-ts"]), ts(m["remote-ts"]))
	}
	return s
}

func TestInteropConfigs(t *testing.T) {
	testenv.Tool(t, "ping", "iputils-ping")
	strongSwan(t)
	pairs := slices.Clone(configPairs)
	for i, p := range pairs {
		switch p.name {
		case "psk":
			pairs[i].a, pairs[i].b = pskPair("2", "aes128-sha256-modp2048", "aes128-sha256-modp2048", "a.example", "b.example")
		case "proposal-mismatch":
			pairs[i].a, pairs[i].b = pskPair("2", "aes128-sha256-modp2048", "aes256-sha384-ecp384", "a.example", "b.example")
		case "esp-proposal-mismatch":
			a, b := pskPair("2", "aes128-sha256-modp2048", "aes128-sha256-modp2048", "a.example", "b.example")
			pairs[i].a, pairs[i].b = a, strings.Replace(b, "esp_proposals = aes128-sha256", "esp_proposals = aes256gcm16", 1)
		case "ikev1-main":
			pairs[i].a, pairs[i].b = pskPair("1", "aes128-sha256-modp2048", "aes128-sha256-modp2048", pairA, pairB)
		case "ikev1-aggressive":
			a, b := pskPair("1", "aes128-sha256-modp2048", "aes128-sha256-modp2048", "a.example", "b.example")
			pairs[i].a = strings.Replace(a, "version = 1", "version = 1\n    aggressive = yes", 1)
			pairs[i].b = strings.Replace(b, "version = 1", "version = 1\n    aggressive = yes", 1)
		}
	}
	for _, c := range pairs {
		t.Run(c.name, func(t *testing.T) {
			nsA, nsB := nsPair(t)
			ca := startCharon(t, charonOptions{netns: nsA, port: 500, portNATT: 4500, libipsec: true, virtualIP: true})
			cb := startCharon(t, charonOptions{netns: nsB, port: 500, portNATT: 4500, libipsec: true})
			var inputs []config.Input
			for _, side := range []struct {
				name, conf string
				c          *charon
			}{{"a", c.a, ca}, {"b", c.b, cb}} {
				for _, f := range c.pki[side.name] {
					data, ok := assets.PKIFile(filepath.Base(f))
					if !ok {
						t.Fatalf("the test PKI has no %s", f)
					}
					if err := os.MkdirAll(filepath.Join(side.c.dir, filepath.Dir(f)), 0o700); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(side.c.dir, f), data, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				side.c.load(t, side.conf)
				path := filepath.Join(side.c.dir, "swanctl.conf")
				side.c.must(t, "--load-pools", "--file", path)
				inputs = append(inputs, config.Input{Node: "node-" + side.name, Path: path, Data: []byte(side.conf)})
			}

			// The real outcome.
			args := []string{"--initiate", "--timeout", "10"}
			if c.child != "" {
				args = append(args, "--child", c.child)
			}
			out, err := ca.run(args...)
			if (err != nil) != c.fail {
				t.Fatalf("swanctl --initiate: %v\n%s", err, out)
			}
			var real listSA
			if !c.fail {
				if c.ping {
					if out, err := exec.Command("ip", "netns", "exec", nsA, "ping", "-n", "-c", "3", "-i", "0.3", "-W", "3", "-I", innerA, innerB).CombinedOutput(); err != nil {
						t.Fatalf("ping through the tunnel: %v\n%s", err, out)
					}
				}
				real = listSAs(t, ca)
				ca.must(t, "--terminate", "--ike", c.conn, "--timeout", "10")
			}
			time.Sleep(200 * time.Millisecond)
			log, err := os.ReadFile(filepath.Join(ca.dir, "charon.log"))
			if err != nil {
				t.Fatal(err)
			}
			want := charonMessages(t, string(log))

			// The simulation of the same files.
			frag := c.timeline
			if !strings.Contains(frag, "duration:") {
				frag += "duration: 5s\n"
			}
			r, err := config.Import(inputs, config.Options{Fragment: []byte(frag), FragmentPath: "the test's timeline"})
			if err != nil {
				t.Fatal(err)
			}
			run, err := r.Simulate(nil)
			if err != nil {
				t.Fatal(err)
			}
			got := config.Messages(run.Sim.Trace)
			if len(want) == 0 || len(got) != len(want) {
				t.Errorf("charon logged %d IKE messages, the simulation sent %d", len(want), len(got))
			}
			for i := 0; i < max(len(want), len(got)); i++ {
				var w, g config.Message
				if i < len(want) {
					w = want[i].Core()
				}
				if i < len(got) {
					g = got[i].Core()
				}
				if w.Exchange != g.Exchange || w.Response != g.Response || !slices.Equal(w.Payloads, g.Payloads) {
					t.Errorf("%2d  strongSwan %s\n    ikesim     %s (%s)", i, w, g, strings.Join(got[min(i, len(got)-1)].Payloads, " "))
				} else {
					t.Logf("%2d  %s", i, w)
				}
			}
			results := scenarios.Grade(run.Scenario, run.Sim.Trace)
			if c.fail {
				findings := config.Diagnose(r, results, run.Sim.Trace)
				if len(findings) == 0 || findings[0].Option != c.option {
					t.Errorf("the mismatch is not diagnosed: %v", findings)
				}
				return
			}
			var ikeSA *trace.SARecord
			var children []string
			for _, e := range run.Sim.Trace.Events {
				if e.Kind == trace.KindSA && e.Op == "up" && e.Node == "node-a" {
					if e.SA.Type == "ike" && ikeSA == nil {
						ikeSA = e.SA
					} else if e.SA.Type == "child" {
						children = append(children, saFacts(e.SA))
					}
				}
			}
			if ikeSA == nil || saFacts(ikeSA) != charonFacts(real.ike, false) {
				t.Errorf("IKE SA: strongSwan chose %s, ikesim %v", charonFacts(real.ike, false), ikeSA)
			}
			var realChildren []string
			for _, ch := range real.children {
				realChildren = append(realChildren, charonFacts(ch, true))
			}
			if !slices.Equal(children, realChildren) {
				t.Errorf("Child SAs: strongSwan %v, ikesim %v", realChildren, children)
			}
			if !scenarios.Passed(results) {
				t.Errorf("the simulation's expectations:\n%s", scenarios.FormatResults(results))
			}
		})
	}
}
