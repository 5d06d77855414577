package scenarios

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/sim/trace"
)

// gradeYAML parses, runs and grades a scenario, failing the test unless every
// expectation passes; it returns the run's trace.
func gradeYAML(t *testing.T, src string) *trace.Trace {
	t.Helper()
	s, err := Parse([]byte(src), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tr := run(t, s, s.Seed).Sim.Trace
	if res := Grade(s, tr); !Passed(res) {
		t.Fatalf("expectations fail:\n%s", FormatResults(res))
	}
	return tr
}

// TestIKEv1OverIPv6 runs ikev2-ipv6 with IKEv1 connections: main mode and quick mode over
// IPv6, with IPv6 proxy IDs, and the pings in ESP in IPv6.
func TestIKEv1OverIPv6(t *testing.T) {
	src, err := builtinFS.ReadFile("builtin/ikev2-ipv6.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v1 := strings.ReplaceAll(string(src), "    site-to-site:\n", "    site-to-site:\n      version: 1\n")
	v1 = strings.ReplaceAll(v1, "aes256-sha256-curve25519", "aes256-sha256-modp2048")
	v1 = strings.ReplaceAll(v1, "aes128gcm16", "aes128-sha256")
	v1 = strings.Replace(v1, "{proto: ikev2, exchange: IKE_AUTH", "{proto: ikev1, exchange: Quick Mode", 1)
	tr := gradeYAML(t, v1)
	quick := 0
	for _, e := range tr.Events {
		if e.Kind == trace.KindMessage && e.Proto() == "ikev1" && e.Exchange() == "Quick Mode" && strings.HasPrefix(e.Src(), "[2001:db8:ff::") {
			quick++
		}
	}
	if quick != 3 {
		t.Errorf("%d quick mode messages over IPv6, want 3", quick)
	}
}

// TestIPv6RoadWarrior: a client asks for an IPv6 virtual address (CP with
// INTERNAL_IP6_ADDRESS, RFC 7296, Section 3.15.1), the gateway leases the first of its
// IPv6 pool, and the Child SA's TSi is narrowed to it.
func TestIPv6RoadWarrior(t *testing.T) {
	tr := gradeYAML(t, `name: rw6
seed: 3
topology:
  nodes:
    - {name: laptop, kind: host, address: "2001:db8:a::10/64"}
    - {name: gw, kind: gateway, addresses: ["2001:db8:a::1/64", "2001:db8:2::1/64"]}
    - {name: server, kind: host, address: "2001:db8:2::20/64"}
  links:
    - {between: [laptop, gw], delay: 5ms}
    - {between: [gw, server]}
connections:
  laptop:
    office:
      local_addrs: ["2001:db8:a::10"]
      remote_addrs: ["2001:db8:a::1"]
      proposals: [aes128gcm16-prfsha256-x25519]
      vips: ["::"]
      local: {id: laptop@example.org}
      remote: {id: gw.example.org}
      children:
        net: {local_ts: ["::/0"], remote_ts: ["2001:db8:2::/64"], start_action: trigger}
  gw:
    roadwarriors:
      local_addrs: ["2001:db8:a::1"]
      proposals: [aes128gcm16-prfsha256-x25519]
      pools: ["2001:db8:10::/64"]
      dns: ["2001:db8:2::53"]
      local: {id: gw.example.org}
      remote: {id: laptop@example.org}
      children:
        net: {local_ts: ["2001:db8:2::/64"], remote_ts: ["2001:db8:10::/64"]}
secrets:
  - {ids: [laptop@example.org, gw.example.org], secret: "v6"}
timeline:
  - {at: 0s, ping: {from: laptop, to: server, count: 3}}
expect:
  - pings: {from: laptop, answered: 2, of: 3}
    says: "The first ping leaves from the public address and is dropped; the others come from the virtual IP."
`)
	var got []string
	for _, e := range tr.Events {
		if e.Kind == trace.KindSA && e.Op == "up" && e.SA.Type == "child" && e.Node == "laptop" {
			got = e.SA.LocalTS
		}
	}
	if !slices.Equal(got, []string{"2001:db8:10::1/128"}) {
		t.Errorf("the laptop's Child SA has TSi %v, want the leased 2001:db8:10::1/128", got)
	}
}

// TestPcapLinkType: a run with IPv6 is written as LINKTYPE_RAW (101), which holds both
// IP versions; an IPv4-only one keeps LINKTYPE_IPV4 (228).
func TestPcapLinkType(t *testing.T) {
	for name, want := range map[string]uint32{"ikev2-ipv6": 101, "ikev2-6in4": 101, "ikev2-ping": 228} {
		s, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := trace.WritePcap(run(t, s, s.Seed).Sim.Trace, &b, false); err != nil {
			t.Fatal(err)
		}
		if got := binary.LittleEndian.Uint32(b.Bytes()[20:24]); got != want {
			t.Errorf("%s: link type %d, want %d", name, got, want)
		}
	}
}

// TestIPv4OverIPv6: IPv4 sites behind gateways that reach each other over IPv6 alone:
// IKEv2 over IPv6, IPv4 traffic selectors, IPv4 pings in ESP in IPv6 (Next Header 4).
func TestIPv4OverIPv6(t *testing.T) {
	tr := gradeYAML(t, `name: v4-in-v6
seed: 4
topology:
  nodes:
    - {name: h1, kind: host, address: 10.1.0.10/24}
    - {name: gw1, kind: gateway, addresses: [10.1.0.1/24, "2001:db8:ff::1/64"]}
    - {name: gw2, kind: gateway, addresses: ["2001:db8:ff::2/64", 10.2.0.1/24]}
    - {name: h2, kind: host, address: 10.2.0.20/24}
  links:
    - {between: [h1, gw1]}
    - {between: [gw1, gw2], delay: 10ms}
    - {between: [gw2, h2]}
connections:
  gw1:
    vpn:
      local_addrs: ["2001:db8:ff::1"]
      remote_addrs: ["2001:db8:ff::2"]
      proposals: [aes128-sha256-x25519]
      local: {id: gw1.example}
      remote: {id: gw2.example}
      children:
        v4: {local_ts: [10.1.0.0/24], remote_ts: [10.2.0.0/24], start_action: trigger}
  gw2:
    vpn:
      local_addrs: ["2001:db8:ff::2"]
      proposals: [aes128-sha256-x25519]
      local: {id: gw2.example}
      remote: {id: gw1.example}
      children:
        v4: {local_ts: [10.2.0.0/24], remote_ts: [10.1.0.0/24]}
secrets:
  - {ids: [gw1.example, gw2.example], secret: "four-in-six"}
timeline:
  - {at: 0s, ping: {from: h1, to: 10.2.0.20, count: 2}}
expect:
  - pings: {from: h1, answered: 2, of: 2}
    says: "IPv4 pings cross inside ESP in IPv6."
`)
	esp := 0
	for _, e := range tr.Events {
		if e.Kind == trace.KindMessage && e.Proto() == "esp" && !e.Forwarded() && len(e.Bytes()) > 40 && e.Bytes()[0]>>4 == 6 {
			esp++
		}
	}
	if esp != 4 {
		t.Errorf("%d ESP packets in IPv6, want 4", esp)
	}
}
