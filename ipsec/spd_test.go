package ipsec

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func prefix(s string) AddrRange { return PrefixRange(netip.MustParsePrefix(s)) }

func TestPrefixRange(t *testing.T) {
	tests := []struct{ prefix, first, last string }{
		{"10.1.0.0/16", "10.1.0.0", "10.1.255.255"},
		{"10.1.2.3/24", "10.1.2.0", "10.1.2.255"},
		{"192.0.2.7/32", "192.0.2.7", "192.0.2.7"},
		{"0.0.0.0/0", "0.0.0.0", "255.255.255.255"},
	}
	for _, tt := range tests {
		r := prefix(tt.prefix)
		if r.First != addr(tt.first) || r.Last != addr(tt.last) {
			t.Errorf("%s: %v", tt.prefix, r)
		}
	}
}

func TestSelectorMatches(t *testing.T) {
	flow := Flow{Src: addr("10.1.0.5"), Dst: addr("10.2.0.7"), Proto: ProtoUDP, SrcPort: 5000, DstPort: 53}
	tests := []struct {
		name string
		sel  Selector
		want bool
	}{
		{"any", Selector{}, true},
		{"subnets", Selector{Src: prefix("10.1.0.0/16"), Dst: prefix("10.2.0.0/16")}, true},
		{"wrong destination subnet", Selector{Src: prefix("10.1.0.0/16"), Dst: prefix("10.3.0.0/16")}, false},
		{"reversed", Selector{Src: prefix("10.2.0.0/16"), Dst: prefix("10.1.0.0/16")}, false},
		{"address range", Selector{Src: AddrRange{addr("10.1.0.1"), addr("10.1.0.5")}}, true},
		{"range just below", Selector{Src: AddrRange{addr("10.1.0.1"), addr("10.1.0.4")}}, false},
		{"protocol", Selector{Proto: ProtoUDP}, true},
		{"other protocol", Selector{Proto: ProtoTCP}, false},
		{"port", Selector{Proto: ProtoUDP, DstPort: PortRange{53, 53}}, true},
		{"port range", Selector{SrcPort: PortRange{1024, 65535}}, true},
		{"other port", Selector{DstPort: PortRange{80, 80}}, false},
		{"full port range", Selector{DstPort: PortRange{0, 65535}}, true},
	}
	for _, tt := range tests {
		if got := tt.sel.Matches(flow); got != tt.want {
			t.Errorf("%s (%v): got %v", tt.name, tt.sel, got)
		}
	}
}

func TestFlowOf(t *testing.T) {
	echo := ping(t, 3, 8)
	udp, err := NewUDPPacket(netip.MustParseAddrPort("10.1.0.5:5000"), netip.MustParseAddrPort("10.2.0.7:53"), 1, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	later := ping(t, 3, 8)
	later[7] = 10 // fragment offset 80 bytes
	fixIPv4Header(later, ipv4HeaderLen, len(later), ProtoICMP)
	tests := []struct {
		name string
		pkt  []byte
		want Flow
	}{
		{"ICMP echo: type 8 code 0", echo, Flow{Src: hostA, Dst: hostB, Proto: ProtoICMP, SrcPort: 0x0800, DstPort: 0x0800}},
		{"UDP", udp, Flow{Src: hostA, Dst: hostB, Proto: ProtoUDP, SrcPort: 5000, DstPort: 53}},
		{"later fragment has no ports", later, Flow{Src: hostA, Dst: hostB, Proto: ProtoICMP}},
	}
	for _, tt := range tests {
		got, err := FlowOf(tt.pkt)
		if err != nil || got != tt.want {
			t.Errorf("%s: %v, %v", tt.name, got, err)
		}
	}
	if _, err := FlowOf(echo[:10]); err == nil {
		t.Error("a truncated packet gave a flow")
	}
}

// TestSPDLookup checks the lookup order (priority, then the order added), directions and
// actions, on a gateway policy set: protect subnet to subnet, bypass IKE, discard the
// rest.
func TestSPDLookup(t *testing.T) {
	var spd SPD
	policies := []*Policy{
		{Name: "catch-all", Priority: 9999, Direction: Out, Action: ActionDiscard},
		{Name: "net-net", Priority: 100, Direction: Out, Action: ActionProtect, Reqid: 1,
			Selector: Selector{Src: prefix("10.1.0.0/16"), Dst: prefix("10.2.0.0/16")}},
		{Name: "net-net-in", Priority: 100, Direction: In, Action: ActionProtect, Reqid: 1,
			Selector: Selector{Src: prefix("10.2.0.0/16"), Dst: prefix("10.1.0.0/16")}},
		{Name: "dns-clear", Priority: 50, Direction: Out, Action: ActionBypass,
			Selector: Selector{Dst: prefix("10.2.0.53/32"), Proto: ProtoUDP, DstPort: PortRange{53, 53}}},
		{Name: "ike", Priority: 10, Direction: Out, Action: ActionBypass,
			Selector: Selector{Proto: ProtoUDP, SrcPort: PortRange{500, 500}}},
		{Name: "net-net-2", Priority: 100, Direction: Out, Action: ActionDiscard,
			Selector: Selector{Src: prefix("10.1.0.0/16"), Dst: prefix("10.2.0.0/16")}},
	}
	for _, p := range policies {
		if err := spd.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		dir  Direction
		flow Flow
		want string // policy name, "" for none
	}{
		{Out, Flow{Src: addr("10.1.0.5"), Dst: addr("10.2.0.7"), Proto: ProtoICMP}, "net-net"},
		{Out, Flow{Src: addr("10.1.0.5"), Dst: addr("10.2.0.53"), Proto: ProtoUDP, SrcPort: 999, DstPort: 53}, "dns-clear"},
		{Out, Flow{Src: addr("10.1.0.5"), Dst: addr("10.2.0.53"), Proto: ProtoTCP, DstPort: 53}, "net-net"},
		{Out, Flow{Src: addr("198.51.100.1"), Dst: addr("203.0.113.2"), Proto: ProtoUDP, SrcPort: 500, DstPort: 500}, "ike"},
		{Out, Flow{Src: addr("198.51.100.1"), Dst: addr("8.8.8.8"), Proto: ProtoICMP}, "catch-all"},
		{In, Flow{Src: addr("10.2.0.7"), Dst: addr("10.1.0.5"), Proto: ProtoICMP}, "net-net-in"},
		{In, Flow{Src: addr("10.1.0.5"), Dst: addr("10.2.0.7"), Proto: ProtoICMP}, ""},
	}
	for _, tt := range tests {
		p := spd.Lookup(tt.dir, tt.flow)
		got := ""
		if p != nil {
			got = p.Name
		}
		if got != tt.want {
			t.Errorf("%v %v: got %q, want %q", tt.dir, tt.flow, got, tt.want)
		}
	}
	if got := spd.Policies(); got[0].Name != "ike" || got[len(got)-1].Name != "catch-all" {
		t.Errorf("order: %v", got)
	}
	if n := spd.Remove("net-net"); n != 1 {
		t.Errorf("Remove: %d", n)
	}
	if p := spd.Lookup(Out, tests[0].flow); p == nil || p.Name != "net-net-2" {
		t.Errorf("after Remove: %v", p)
	}
	if err := spd.Add(&Policy{Name: "no direction", Action: ActionBypass}); err == nil {
		t.Error("a policy without direction was added")
	}
	if err := spd.Add(&Policy{Name: "no action", Direction: In}); err == nil {
		t.Error("a policy without action was added")
	}
}

// TestDefaultPriority checks that a narrower selector gets a smaller number.
func TestDefaultPriority(t *testing.T) {
	order := []Selector{
		{Src: prefix("10.1.0.5/32"), Dst: prefix("10.2.0.7/32"), Proto: ProtoTCP, DstPort: PortRange{80, 80}},
		{Src: prefix("10.1.0.5/32"), Dst: prefix("10.2.0.7/32"), Proto: ProtoTCP},
		{Src: prefix("10.1.0.5/32"), Dst: prefix("10.2.0.7/32")},
		{Src: prefix("10.1.0.0/24"), Dst: prefix("10.2.0.0/24")},
		{Src: prefix("10.1.0.0/16"), Dst: prefix("10.2.0.0/16")},
		{},
	}
	for i := 1; i < len(order); i++ {
		if a, b := DefaultPriority(order[i-1]), DefaultPriority(order[i]); a >= b {
			t.Errorf("%v (%d) should come before %v (%d)", order[i-1], a, order[i], b)
		}
	}
}

func TestSPDStrings(t *testing.T) {
	p := &Policy{Name: "net-net", Direction: Out, Action: ActionProtect, Reqid: 3, Selector: Selector{
		Src: prefix("10.1.0.0/16"), Dst: AddrRange{addr("10.2.0.7"), addr("10.2.0.7")}, Proto: ProtoTCP,
		DstPort: PortRange{80, 443}, SrcPort: PortRange{22, 22}}}
	want := "net-net out 10.1.0.0-10.1.255.255[22] -> 10.2.0.7[80-443] proto TCP protect reqid 3"
	if got := p.String(); got != want {
		t.Errorf("Policy: %q\nwant %q", got, want)
	}
	if got := (Selector{}).String(); got != "any[any] -> any[any] proto any" {
		t.Errorf("Selector: %q", got)
	}
	f := Flow{Src: hostA, Dst: hostB, Proto: ProtoUDP, SrcPort: 1, DstPort: 2}
	if got := f.String(); got != "10.1.0.5:1 -> 10.2.0.7:2 UDP" {
		t.Errorf("Flow: %q", got)
	}
}

// TestInboundSelectorCheck: an inbound SA with selectors hands out only the packets its
// Child SA was negotiated for (RFC 4301, Section 5.2, step 4); the others come back as
// DropSelectors, counted as neither accepted packets nor bytes.
func TestInboundSelectorCheck(t *testing.T) {
	udp := func(src, dst string, sport, dport uint16) []byte {
		p, err := NewUDPPacket(netip.AddrPortFrom(addr(src), sport), netip.AddrPortFrom(addr(dst), dport), 1, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	echo := func(src, dst string) []byte {
		p, err := NewEchoRequest(addr(src), addr(dst), 1, 2, 3, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ts := func(p string, proto uint8, from, to uint16) ike.TrafficSelector {
		s := ike.TSFromPrefix(netip.MustParsePrefix(p))
		s.Proto, s.StartPort, s.EndPort = proto, from, to
		return s
	}
	subnets := []Selector{SelectorOf(ts("10.1.0.0/24", 0, 0, 0xffff), ts("10.2.0.0/24", 0, 0, 0xffff))}
	dns := []Selector{SelectorOf(ts("10.1.0.0/24", ProtoUDP, 0, 0xffff), ts("10.2.0.7/32", ProtoUDP, 53, 53))}
	for _, tt := range []struct {
		name   string
		sels   []Selector
		inner  []byte
		refuse bool
	}{
		{"inside", subnets, echo("10.1.0.5", "10.2.0.7"), false},
		{"source outside", subnets, echo("10.9.0.5", "10.2.0.7"), true},
		{"destination outside", subnets, echo("10.1.0.5", "10.3.0.7"), true},
		{"reversed direction", subnets, echo("10.2.0.7", "10.1.0.5"), true},
		{"protocol and port inside", dns, udp("10.1.0.5", "10.2.0.7", 5000, 53), false},
		{"other port", dns, udp("10.1.0.5", "10.2.0.7", 5000, 80), true},
		{"other protocol", dns, echo("10.1.0.5", "10.2.0.7"), true},
		{"no selectors: no check", nil, echo("10.9.0.5", "10.3.0.7"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, in, sad := newPair(t, saConfig{encr: gcm16, keyBits: 128, mode: Tunnel})
			in.Selectors = tt.sels
			outer, err := out.Protect(tt.inner)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := sad.Unprotect(outer)
			if !tt.refuse {
				if err != nil || !bytes.Equal(got, tt.inner) {
					t.Fatalf("refused (%v) or changed a packet inside the selectors", err)
				}
				return
			}
			if !errors.Is(err, DropSelectors) || !strings.Contains(err.Error(), "outside") {
				t.Fatalf("got %v, want a drop for the selectors", err)
			}
			if st := in.Stats(); st.Packets != 0 || st.Bytes != 0 {
				t.Errorf("a refused packet was counted: %+v", st)
			}
		})
	}
}

// TestSPDIndexKeepsOrder: the indexed SPD gives for every flow the policy a plain
// ordered list gives (the first match by priority, then by the order added), with
// policies for single hosts and for prefixes, of random priorities, some removed.
func TestSPDIndexKeepsOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	host := func() netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, byte(r.IntN(8))}) }
	var spd SPD
	var list []*Policy // the reference: in lookup order
	for i := 0; i < 300; i++ {
		dir := Direction(1 + r.IntN(2))
		far := PrefixRange(netip.PrefixFrom(host(), 32))
		if r.IntN(3) == 0 {
			far = prefix("10.0.0.0/29")
		}
		near := prefix("192.0.2.0/24")
		sel := Selector{Src: near, Dst: far, SrcPort: PortRange{0, 65535}, DstPort: PortRange{0, 65535}}
		if dir == In {
			sel.Src, sel.Dst = far, near
		}
		if r.IntN(4) == 0 {
			sel.Proto = ProtoICMP
		}
		p := &Policy{Name: fmt.Sprint("p", r.IntN(40)), Priority: r.IntN(5), Direction: dir, Selector: sel, Action: ActionProtect, Reqid: uint32(i)}
		if err := spd.Add(p); err != nil {
			t.Fatal(err)
		}
		at := len(list)
		for j, q := range list {
			if q.Priority > p.Priority {
				at = j
				break
			}
		}
		list = slices.Insert(list, at, p)
		if i%50 == 49 {
			name := fmt.Sprint("p", r.IntN(40))
			n := spd.Remove(name)
			before := len(list)
			list = slices.DeleteFunc(list, func(q *Policy) bool { return q.Name == name })
			if n != before-len(list) {
				t.Fatalf("Remove(%s) = %d, want %d", name, n, before-len(list))
			}
		}
	}
	if got := spd.Policies(); !slices.Equal(got, list) {
		t.Fatalf("Policies() differs from the ordered list")
	}
	for i := 0; i < 2000; i++ {
		dir := Direction(1 + r.IntN(2))
		f := Flow{Src: addr("192.0.2.7"), Dst: host(), Proto: []uint8{ProtoICMP, ProtoUDP}[r.IntN(2)]}
		if dir == In {
			f.Src, f.Dst = f.Dst, f.Src
		}
		var want *Policy
		for _, p := range list {
			if p.Direction == dir && p.Selector.Matches(f) {
				want = p
				break
			}
		}
		if got := spd.Lookup(dir, f); got != want {
			t.Fatalf("Lookup(%v, %v) = %v, want %v", dir, f, got, want)
		}
	}
}
