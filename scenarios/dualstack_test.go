package scenarios

import (
	"slices"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/sim/trace"
)

// dualNAT: a dual-stack host behind a NAT whose inside and outside interfaces are both
// dual-stack, pinging a dual-stack server over IPv4 and over IPv6.
const dualNAT = `name: dual-nat
topology:
  nodes:
    - {name: h, kind: host, address: "192.168.1.10/24 fd00:1::10/64"}
    - {name: nat, kind: nat, addresses: ["192.168.1.1/24 fd00:1::1/64", "198.51.100.1/24 2001:db8::1/64"]}
    - {name: srv, kind: host, address: "198.51.100.2/24 2001:db8::2/64"}
  links:
    - {between: [h, nat]}
    - {between: [nat, srv]}
timeline:
  - {at: 0s, ping: {from: h, to: 198.51.100.2, count: 1}}
  - {at: 1s, ping: {from: h, to: "2001:db8::2", count: 1}}
expect:
  - pings: {from: h, to: 198.51.100.2, answered: 1, of: 1}
    says: "The IPv4 ping crosses the NAT."
  - pings: {from: h, to: "2001:db8::2", answered: 1, of: 1}
    says: "The IPv6 ping crosses the NAT."
`

// TestDualStackNAT: on one dual-stack interface each family has its routes, and a NAT
// maps each packet to its outside address of the packet's own family.
func TestDualStackNAT(t *testing.T) {
	tr := gradeYAML(t, dualNAT)
	validateTrace(t, traceSchema(t), tr) // the topology events' ifaces with also
	also := 0
	for _, e := range tr.Events {
		if e.Kind == trace.KindTopology {
			for _, i := range e.Topology.Ifaces {
				if i.Also != "" {
					also++
				}
			}
		}
	}
	if also != 4 {
		t.Errorf("%d dual-stack interfaces in the topology events, want 4", also)
	}
	var srcs []string
	for _, e := range tr.Events {
		if e.Kind == trace.KindMessage && e.From() == "nat" && e.To() == "srv" {
			srcs = append(srcs, e.Src())
		}
		if e.Kind == trace.KindMessage && e.From() == "h" && !strings.HasPrefix(e.Src(), "192.168.1.10") && !strings.HasPrefix(e.Src(), "fd00:1::10") {
			t.Errorf("h sends from %s", e.Src())
		}
	}
	if !slices.Equal(srcs, []string{"198.51.100.1", "2001:db8::1"}) {
		t.Errorf("the NAT sends to srv from %v, want 198.51.100.1 then 2001:db8::1", srcs)
	}
}

// TestDualStackNATWithoutTheFamily: a NAT with an IPv4-only outside interface drops the
// IPv6 packet from inside, with a drop that names the cause, and passes the IPv4 one.
func TestDualStackNATWithoutTheFamily(t *testing.T) {
	src := strings.Replace(dualNAT, `"198.51.100.1/24 2001:db8::1/64"`, `198.51.100.1/24`, 1)
	src = strings.Replace(src, "answered: 1, of: 1}\n    says: \"The IPv6", "answered: 0, of: 1}\n    says: \"The IPv6", 1)
	tr := gradeYAML(t, src)
	var drops []*trace.Event
	for _, e := range tr.Events {
		if e.Kind == trace.KindDrop && e.Node == "nat" {
			drops = append(drops, e)
		}
	}
	if len(drops) != 1 || drops[0].Cause() != trace.DropNAT || !strings.Contains(drops[0].Text, "no address of fd00:1::10's family") {
		t.Errorf("the NAT's drops %+v, want one NAT drop naming the missing family", drops)
	}
}

// TestDualStackAddressesValidated: an entry takes one address, or one of each family.
func TestDualStackAddressesValidated(t *testing.T) {
	for _, tc := range []struct{ entry, want string }{
		{`"10.1.0.1/24 10.2.0.1/24"`, "not two of one family"},
		{`"2001:db8::1/64 2001:db8:1::1/64"`, "not two of one family"},
		{`"10.1.0.1/24 2001:db8::1/64 10.2.0.1/24"`, "has 3 addresses"},
		{`"10.1.0.1/24 2001:db8::1/200"`, "is not an IP address with prefix length"},
	} {
		src := strings.Replace(dualNAT, `"192.168.1.10/24 fd00:1::10/64"`, tc.entry, 1)
		_, err := Parse([]byte(src), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "t.yaml:4:38") {
			t.Errorf("%s: error %v, want one at t.yaml:4:38 saying %q", tc.entry, err, tc.want)
		}
	}
}

// TestVirtualIPOfTheOtherFamily: a dual-stack road warrior leased an IPv4 virtual IP
// pings the server's IPv6 address outside the tunnel from its own IPv6 address, not
// from the IPv4 virtual IP (a source of the wrong family, as live mode never picks).
func TestVirtualIPOfTheOtherFamily(t *testing.T) {
	tr := gradeYAML(t, `name: vip-other-family
duration: 10s
topology:
  nodes:
    - {name: laptop, kind: host, address: "172.16.1.10/16 fd00:1::10/64"}
    - {name: gw, kind: gateway, addresses: ["172.16.0.1/16 fd00:1::1/64", "10.0.0.1/24 fd00:2::1/64", 10.10.10.254/24]}
    - {name: server, kind: host, address: "10.0.0.10/24 fd00:2::10/64"}
  links:
    - {between: [laptop, gw]}
    - {between: [gw, server]}
connections:
  laptop:
    home:
      remote_addrs: [172.16.0.1]
      proposals: [aes128-sha256-x25519]
      local: {id: laptop.example}
      remote: {id: gw.example}
      vips: [0.0.0.0]
      children:
        net: {local_ts: [dynamic], remote_ts: [10.0.0.0/24], start_action: start}
  gw:
    rw:
      local_addrs: [172.16.0.1]
      proposals: [aes128-sha256-x25519]
      local: {id: gw.example}
      remote: {id: laptop.example}
      pools: [10.10.10.0/24]
      children:
        net: {local_ts: [10.0.0.0/24], remote_ts: [10.10.10.0/24]}
secrets:
  - {ids: [laptop.example, gw.example], secret: "a secret"}
timeline:
  - {at: 2s, ping: {from: laptop, to: 10.0.0.10}}
  - {at: 3s, ping: {from: laptop, to: "fd00:2::10"}}
expect:
  - pings: {from: laptop, answered: 2, of: 2}
    says: "The ping to the IPv4 address goes through the tunnel, the one to the IPv6 address around it."
`)
	var srcs []string
	for _, e := range tr.Events {
		if e.Kind == trace.KindMessage && e.From() == "laptop" && (e.Proto() == "icmp" || e.Proto() == "icmpv6") {
			srcs = append(srcs, e.Src())
		}
	}
	if !slices.Equal(srcs, []string{"fd00:1::10"}) {
		t.Errorf("laptop sends ICMP in clear from %v, want only fd00:1::10", srcs)
	}
}
