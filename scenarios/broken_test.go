package scenarios

import (
	"strings"
	"testing"
)

// brokenBase is a small valid scenario; each case breaks one thing in it.
const brokenBase = `name: t
topology:
  nodes:
    - {name: a, kind: gateway, address: 192.0.2.1/24}
    - {name: b, kind: gateway, address: 192.0.2.2/24}
  links:
    - {between: [a, b], delay: 5ms}
connections:
  a:
    vpn:
      local_addrs: [192.0.2.1]
      remote_addrs: [192.0.2.2]
      proposals: [aes128-sha256-ecp256]
      local: {id: a.example}
      remote: {id: b.example}
      children:
        net: {local_ts: [10.1.0.0/24], remote_ts: [10.2.0.0/24], start_action: start}
secrets:
  - {ids: [a.example, b.example], secret: s}
timeline:
  - {at: 1s, ping: {from: a, to: 192.0.2.2}}
expect:
  - ike_sa: {between: [a, b]}
    says: up
`

// TestBrokenFilesNameTheirFirstError checks 50 broken files: each one's first error,
// with its line and column.
func TestBrokenFilesNameTheirFirstError(t *testing.T) {
	if _, err := Parse([]byte(brokenBase), "t.yaml"); err != nil {
		t.Fatalf("the base file is broken itself: %v", err)
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"unknown top field", "name: t", "name: t\ncolor: red", "t.yaml:2:1: unknown field \"color\""},
		{"unknown node field", "{name: a, kind: gateway", "{name: a, kind: gateway, colour: red", "t.yaml:4:32: unknown field \"colour\" in nodes entry"},
		{"unknown connection field", "      proposals: [aes128-sha256-ecp256]", "      proposals: [aes128-sha256-ecp256]\n      dpd_dalay: 5s", "t.yaml:14:7: unknown field \"dpd_dalay\" in vpn (did you mean \"dpd_delay\"?)"},
		{"unknown child field", "start_action: start}", "start_action: start, mdoe: tunnel}", "t.yaml:17:87: unknown field \"mdoe\" in net (did you mean \"mode\"?)"},
		{"unknown expect check", "  - ike_sa: {between: [a, b]}", "  - ike_sas: {between: [a, b]}", "t.yaml:23:5: unknown field \"ike_sas\" in expect entry (did you mean \"ike_sa\"?)"},
		{"bad kind", "kind: gateway, address: 192.0.2.2/24", "kind: gatewy, address: 192.0.2.2/24", "t.yaml:5:23: node kind \"gatewy\" is not one of host, gateway, router, nat (did you mean \"gateway\"?)"},
		{"bad address", "address: 192.0.2.1/24", "address: 192.0.2.999/24", "t.yaml:4:41: \"192.0.2.999/24\" is not an IP address with prefix length (like 10.1.0.1/24 or 2001:db8:1::1/64)"},
		{"bad prefix length", "address: 192.0.2.1/24", "address: 192.0.2.1/33", "t.yaml:4:41: \"192.0.2.1/33\" is not an IP address with prefix length (like 10.1.0.1/24 or 2001:db8:1::1/64)"},
		{"ipv6 address with a zone", "address: 192.0.2.1/24", "address: fe80::1%eth0/64", "t.yaml:4:41: \"fe80::1%eth0/64\" is not an IP address with prefix length (like 10.1.0.1/24 or 2001:db8:1::1/64)"},
		{"no address", "{name: b, kind: gateway, address: 192.0.2.2/24}", "{name: b, kind: gateway}", "t.yaml:5:7: node \"b\" has no address"},
		{"duplicate node", "    - {name: b, kind: gateway, address: 192.0.2.2/24}", "    - {name: a, kind: gateway, address: 192.0.2.2/24}", "t.yaml:5:14: node \"a\" is defined twice"},
		{"link to unknown node", "between: [a, b], delay", "between: [a, c], delay", "t.yaml:7:21: unknown node \"c\" (did you mean \"a\"?)"},
		{"link to itself", "between: [a, b], delay", "between: [a, a], delay", "t.yaml:7:17: link joins node \"a\" to itself"},
		{"link with one end", "between: [a, b], delay", "between: [a], delay", "t.yaml:7:7: a link is between exactly two nodes (between: [a, b])"},
		{"bad delay", "delay: 5ms", "delay: 5 parsecs", "t.yaml:7:32: delay: \"5 parsecs\" is not a duration (write it like 20ms, 1.5s or 2m)"},
		{"negative delay", "delay: 5ms", "delay: -5ms", "t.yaml:7:32: delay: duration \"-5ms\" is negative"},
		{"loss over 100%", "delay: 5ms}", "delay: 5ms, loss: 130%}", "t.yaml:7:43: loss: \"130%\" is not between 0% and 100%"},
		{"loss not a number", "delay: 5ms}", "delay: 5ms, loss: lots}", "t.yaml:7:43: loss: \"lots\" is not a percentage (write it like 30% or 0.3)"},
		{"bad mtu", "delay: 5ms}", "delay: 5ms, mtu: 10}", "t.yaml:7:42: MTU 10 is out of range (576 to 65535)"},
		{"mtu not a number", "delay: 5ms}", "delay: 5ms, mtu: big}", "t.yaml:7:42: mtu must be a whole number, not \"big\""},
		{"connections on unknown node", "connections:\n  a:", "connections:\n  z:", "t.yaml:10:8: unknown node \"z\" (did you mean \"a\"?)"},
		{"bad version", "      local_addrs: [192.0.2.1]", "      version: 3\n      local_addrs: [192.0.2.1]", "t.yaml:11:16: IKE version is 1 or 2, not 3"},
		{"local addr not the node's", "local_addrs: [192.0.2.1]", "local_addrs: [192.0.2.7]", "t.yaml:11:21: 192.0.2.7 is not an address of node \"a\""},
		{"remote addr not an address", "remote_addrs: [192.0.2.2]", "remote_addrs: [gw-b]", "t.yaml:12:22: \"gw-b\" is not an IP address"},
		{"unknown algorithm", "aes128-sha256-ecp256", "aes128-sha265-ecp256", "t.yaml:13:19: unknown algorithm \"sha265\" in proposal \"aes128-sha265-ecp256\" (did you mean \"sha256\"?)"},
		{"no proposals", "      proposals: [aes128-sha256-ecp256]\n", "", "t.yaml:11:18: connection \"vpn\" has no proposals (e.g. proposals: [aes128-sha256-modp2048])"},
		{"missing id", "      local: {id: a.example}", "      local: {auth: psk}", "t.yaml:14:14: missing id (e.g. id: gw-a.example)"},
		{"unsupported auth", "      local: {id: a.example}", "      local: {auth: eap, id: a.example}", "t.yaml:14:21: authentication \"eap\" is not one of psk, pubkey, rsa/pss, eap-md5, eap-mschapv2"},
		{"unknown certificate", "      local: {id: a.example}", "      local: {auth: pubkey, id: a.example, certs: [gw-c]}", "t.yaml:14:52: \"gw-c\" is not a certificate of the test PKI (did you mean \"gw-a\"?) (or name a .pem file)"},
		{"pubkey without certs", "      local: {id: a.example}", "      local: {auth: pubkey, id: a.example}", "t.yaml:14:14: auth: pubkey needs certs: [NAME] (e.g. certs: [a]; see ikesim's test PKI in docs/scenarios.md)"},
		{"certificate file missing", "      local: {id: a.example}", "      local: {auth: pubkey, id: a.example, certs: [a.pem]}", "t.yaml:14:52: cannot read a.pem: open a.pem: no such file or directory"},
		{"no trust store", "      remote: {id: b.example}", "      remote: {auth: pubkey, id: b.example}", "t.yaml:15:15: node \"a\" checks its peer's certificate but has no trust store: add cacerts: [ca] to it under topology.nodes"},
		{"unknown CA certificate", "address: 192.0.2.1/24}", "address: 192.0.2.1/24, cacerts: [cs]}", "t.yaml:4:65: \"cs\" is not a certificate of the test PKI (did you mean \"ca\"?) (or name a .pem file)"},
		{"EAP client without a certificate check", "      local: {id: a.example}", "      local: {auth: eap-mschapv2, id: a.example}", "t.yaml:15:15: an EAP client checks the gateway's certificate: set remote auth: pubkey"},
		{"EAP in IKEv1", "      local: {id: a.example}\n      remote: {id: b.example}", "      version: 1\n      local: {auth: eap-md5, id: a.example}\n      remote: {auth: pubkey, id: b.example}", "t.yaml:15:21: EAP is IKEv2's (IKEv1 has XAUTH): set version: 2"},
		{"unknown secret type", "  - {ids: [a.example, b.example], secret: s}", "  - {ids: [a.example, b.example], secret: s}\n  - {type: ik, ids: [x], secret: t}", "t.yaml:20:12: secret type \"ik\" is not one of ike, eap, private (did you mean \"ike\"?)"},
		{"IKEv1 with ECDSA", "      local: {id: a.example}\n      remote: {id: b.example}", "      version: 1\n      local: {auth: pubkey, id: gw-a.example, certs: [gw-a-p256]}\n      remote: {auth: pubkey, id: b.example}", "t.yaml:15:55: IKEv1 signs with RSA only; this certificate has an ECDSA P-256 key"},
		{"IKEv1 with RSA-PSS", "      local: {id: a.example}\n      remote: {id: b.example}", "      version: 1\n      local: {auth: rsa/pss, id: gw-a.example, certs: [gw-a]}\n      remote: {auth: pubkey, id: b.example}", "t.yaml:15:21: IKEv1 signs with RSA PKCS#1 v1.5 only: auth: pubkey"},
		{"negative half-open limit", "address: 192.0.2.1/24}", "address: 192.0.2.1/24, charon: {block_threshold: -1}}", "t.yaml:4:81: block_threshold is a number of half-open IKE SAs, 0 (no limit) or more, not -1"},
		{"unknown charon setting", "address: 192.0.2.1/24}", "address: 192.0.2.1/24, charon: {cookie_treshold: 5}}", "t.yaml:4:64: unknown field \"cookie_treshold\" in charon (did you mean \"cookie_threshold\"?)"},
		{"fragment size too small", "      local_addrs: [192.0.2.1]", "      fragment_size: 100\n      local_addrs: [192.0.2.1]", "t.yaml:11:22: fragment_size 100 is out of range (576 to 65535)"},
		{"fragmentation not yes or no", "      local_addrs: [192.0.2.1]", "      fragmentation: often\n      local_addrs: [192.0.2.1]", "t.yaml:11:22: fragmentation: \"often\" is not yes or no"},
		{"bad traffic selector", "local_ts: [10.1.0.0/24]", "local_ts: [10.1.0.0/42]", "t.yaml:17:26: traffic selector \"10.1.0.0/42\" is not a prefix like 10.1.0.0/24"},
		{"bad mode", "start_action: start}", "start_action: start, mode: tunel}", "t.yaml:17:93: mode is tunnel or transport, not \"tunel\""},
		{"bad start action", "start_action: start}", "start_action: strat}", "t.yaml:17:80: start_action is trigger, start or none, not \"strat\" (did you mean \"start\"?)"},
		{"bad esp proposal", "start_action: start}", "start_action: start, esp_proposals: [aes128-foo]}", "t.yaml:17:103: unknown algorithm \"foo\" in proposal \"aes128-foo\""},
		{"no secret", "{ids: [a.example, b.example], secret: s}", "{ids: [x.example, y.example], secret: s}", "t.yaml:14:14: no secret of type ike names ids \"a.example\" and \"b.example\" for node \"a\""},
		{"proposals not a list", "proposals: [aes128-sha256-ecp256]", "proposals: {a: b}", "t.yaml:13:18: proposals must be a list ([a, b] or lines starting with -), not a mapping"},
		{"children not a mapping", "      children:\n        net: {local_ts: [10.1.0.0/24], remote_ts: [10.2.0.0/24], start_action: start}", "      children: [net]", "t.yaml:16:17: children must be a mapping of names, not a list"},
		{"step with two actions", "{at: 1s, ping: {from: a, to: 192.0.2.2}}", "{at: 1s, ping: {from: a, to: 192.0.2.2}, liveness: {node: a}}", "t.yaml:21:5: a timeline step has exactly one action (ping, initiate, rekey, delete, liveness, link, set_psk, restart); this one has 2"},
		{"step without action", "{at: 1s, ping: {from: a, to: 192.0.2.2}}", "{at: 1s}", "t.yaml:21:5: a timeline step has exactly one action (ping, initiate, rekey, delete, liveness, link, set_psk, restart); this one has 0"},
		{"ping from unknown node", "ping: {from: a, to", "ping: {from: x, to", "t.yaml:21:27: unknown node \"x\" (did you mean \"a\"?)"},
		{"ping to nowhere", "to: 192.0.2.2}}", "to: nowhere}}", "t.yaml:21:34: ping target \"nowhere\" is neither an address nor a node"},
		{"unknown connection in step", "{at: 1s, ping: {from: a, to: 192.0.2.2}}", "{at: 1s, rekey: {node: a, connection: vnp}}", "t.yaml:21:43: node \"a\" has no connection \"vnp\" (did you mean \"vpn\"?)"},
		{"link step bad state", "{at: 1s, ping: {from: a, to: 192.0.2.2}}", "{at: 1s, link: {between: [a, b], state: sideways}}", "t.yaml:21:45: link state is up or down, not \"sideways\""},
		{"fault with no action", "secrets:", "faults:\n  - {}\nsecrets:", "t.yaml:19:5: a fault has exactly one action (drop, duplicate, delay, corrupt); this one has 0"},
		{"fault unknown exchange", "secrets:", "faults:\n  - {drop: {exchange: IKE_AUHT}}\nsecrets:", "t.yaml:19:5: unknown exchange \"IKE_AUHT\" (did you mean \"IKE_AUTH\"?)"},
		{"delay fault without by", "secrets:", "faults:\n  - {delay: {exchange: IKE_AUTH}}\nsecrets:", "t.yaml:19:5: a delay fault needs by: (e.g. by: 3s)"},
		{"expect unknown node", "between: [a, b]}\n    says", "between: [a, q]}\n    says", "t.yaml:23:27: unknown node \"q\" (did you mean \"a\"?)"},
		{"expect bad state", "between: [a, b]}\n    says", "between: [a, b], state: maybe}\n    says", "t.yaml:23:38: ike_sa state is established or failed, not \"maybe\""},
		{"seed not a number", "name: t", "name: t\nseed: abc", "t.yaml:2:7: seed must be a whole number, not \"abc\""},
		{"yaml syntax", "name: t", "name: t\n  bad: [indent", "t.yaml:1:7: mapping value is not allowed in this context"},
		{"nodes not a list", "  nodes:\n", "  nodes: 5\n  old_nodes:\n", "t.yaml:3:10: nodes must be a list ([a, b] or lines starting with -), not a number"},
		{"bool field not bool", "      local_addrs: [192.0.2.1]", "      encap: sometimes\n      local_addrs: [192.0.2.1]", "t.yaml:11:14: encap must be true or false, not \"sometimes\""},
		{"unknown state in expect", "  - ike_sa: {between: [a, b]}", "  - state: {node: a, state: ESTABLISHD}", "t.yaml:23:29: unknown state \"ESTABLISHD\" (did you mean \"ESTABLISHED\"?)"},
		{"unknown exchange in expect", "  - ike_sa: {between: [a, b]}", "  - message: {exchange: ike_auth}", "t.yaml:23:25: unknown exchange \"ike_auth\" (did you mean \"IKE_AUTH\"?)"},
		{"unknown notify in expect", "  - ike_sa: {between: [a, b]}", "  - message: {notify: NO_PROPOSALS_CHOSEN}", "t.yaml:23:23: unknown notify type \"NO_PROPOSALS_CHOSEN\" (did you mean \"NO_PROPOSAL_CHOSEN\"?)"},
		{"unknown proto in expect", "  - ike_sa: {between: [a, b]}", "  - message: {proto: IKEv2, absent: true}", "t.yaml:23:22: unknown protocol \"IKEv2\" (one of ikev1, ikev2, esp, ah, icmp, udp, ip, nat-keepalive) (did you mean \"ikev2\"?)"},
		{"answered more than sent", "  - ike_sa: {between: [a, b]}", "  - pings: {from: a, answered: 3, of: 2}", "t.yaml:23:32: 3 of 2 pings can never be answered"},
		{"fault from unknown node", "secrets:", "faults:\n  - {drop: {from: gw-est}}\nsecrets:", "t.yaml:19:5: unknown node \"gw-est\""},
		{"by on a drop", "secrets:", "faults:\n  - {drop: {exchange: IKE_AUTH, by: 2s}}\nsecrets:", "t.yaml:19:5: by: applies only to a delay fault"},
		{"child that does not exist", "{at: 1s, ping: {from: a, to: 192.0.2.2}}", "{at: 1s, rekey: {node: a, child: nett}}", "t.yaml:21:38: node \"a\" has no child \"nett\" (did you mean \"net\"?)"},
	} {
		if !strings.Contains(brokenBase, c.from) {
			t.Fatalf("%s: the base has no %q", c.name, c.from)
		}
		src := strings.Replace(brokenBase, c.from, c.to, 1)
		_, err := Parse([]byte(src), "t.yaml")
		el, ok := err.(ErrorList)
		if !ok || len(el) == 0 {
			t.Errorf("%s: got %v, want an ErrorList", c.name, err)
			continue
		}
		if got := el[0].File + ":" + itoa(el[0].Line) + ":" + itoa(el[0].Col) + ": " + el[0].Msg; got != c.want {
			t.Errorf("%s:\n got  %s\n want %s", c.name, got, c.want)
		}
		if !strings.Contains(err.Error(), "^") {
			t.Errorf("%s: the error shows no source line with a caret:\n%v", c.name, err)
		}
	}
}

func itoa(n int) string {
	s := ""
	for {
		s = string(rune('0'+n%10)) + s
		n /= 10
		if n == 0 {
			return s
		}
	}
}

// TestAllErrorsAtOnce: a file with several independent problems gets them all.
func TestAllErrorsAtOnce(t *testing.T) {
	src := strings.NewReplacer(
		"name: t", "name: t\ncolour: red",
		"kind: gateway, address: 192.0.2.2/24", "kind: gatewy, address: 192.0.2.2/24",
		"aes128-sha256-ecp256", "aes128-sha265-ecp256",
		"between: [a, b]}\n    says", "between: [a, q]}\n    says",
	).Replace(brokenBase)
	_, err := Parse([]byte(src), "t.yaml")
	el, _ := err.(ErrorList)
	want := []string{`unknown field "colour"`, `node kind "gatewy"`, `unknown algorithm "sha265"`, `unknown node "q"`}
	if len(el) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(el), len(want), err)
	}
	for i, w := range want {
		if !strings.Contains(el[i].Msg, w) {
			t.Errorf("error %d is %q, want %q", i+1, el[i].Msg, w)
		}
	}
	for i := 1; i < len(el); i++ {
		if el[i].Line < el[i-1].Line {
			t.Error("errors are not in file order")
		}
	}
}

// TestTypeErrorsDoNotHideLaterErrors: a bad value is reported, and the checks go on.
func TestTypeErrorsDoNotHideLaterErrors(t *testing.T) {
	src := strings.NewReplacer(
		"delay: 5ms", "delay: 5 parsecs",
		"start_action: start}", "start_action: strat}",
		"proposals: [aes128-sha256-ecp256]", "proposals: [null]",
	).Replace(brokenBase)
	_, err := Parse([]byte(src), "t.yaml")
	el, _ := err.(ErrorList)
	want := []string{`delay: "5 parsecs" is not a duration`, `write "null" in quotes`, `start_action is trigger, start or none, not "strat"`}
	if len(el) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(el), len(want), err)
	}
	for i, w := range want {
		if !strings.Contains(el[i].Msg, w) {
			t.Errorf("error %d is %q, want %q", i+1, el[i].Msg, w)
		}
	}
}

// FuzzParse: the loader never panics, whatever the file holds.
func FuzzParse(f *testing.F) {
	f.Add([]byte(brokenBase))
	for _, name := range Builtins() {
		data, _ := builtinFS.ReadFile("builtin/" + name + ".yaml")
		f.Add(data)
	}
	f.Add([]byte("a: [b: {c"))
	f.Add([]byte("---\n---\n"))
	f.Add(RoadWarriors(3, 2)) // a group on a segment, %any
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml")
		if err == nil && len(s.File.Topology.Nodes) <= 1000 {
			if _, err := Build(s, 1); err != nil && !strings.Contains(err.Error(), "scenario") {
				t.Errorf("build error without context: %v", err)
			}
		}
	})
}
