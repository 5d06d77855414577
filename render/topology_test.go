package render_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
	"github.com/ikesim/ikesim/sim/trace"
)

// TestTopologyOfSavedTrace reads ikev2-nat's network from its trace saved as JSON Lines
// and read back: the kinds, prefixes and NAT outside address of the nodes, the links
// with their impairments, and the IKE connection between gw-a and gw-b (not the hops
// its messages crossed) are what the scenario says, as in the run itself.
func TestTopologyOfSavedTrace(t *testing.T) {
	tr := rendertest.Trace(t, "ikev2-nat")
	var b bytes.Buffer
	if err := tr.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	saved, err := trace.ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	got := render.TopologyOf(saved, "nat")
	if run := render.TopologyOf(tr, "nat"); !reflect.DeepEqual(got, run) {
		t.Errorf("the saved trace's topology\n%+v\ndiffers from the run's\n%+v", got, run)
	}
	want := &render.Topology{Name: "nat",
		Nodes: []render.TopoNode{
			{Name: "host-a", Kind: "host", Addrs: []string{"10.1.0.10/24"}},
			{Name: "gw-a", Kind: "gateway", Addrs: []string{"10.1.0.1/24", "192.168.1.2/24"}},
			{Name: "nat", Kind: "nat", Addrs: []string{"192.168.1.1/24", "198.51.100.1/24"}, NAT: "198.51.100.1"},
			{Name: "gw-b", Kind: "gateway", Addrs: []string{"203.0.113.2/24", "10.2.0.1/24"}},
			{Name: "host-b", Kind: "host", Addrs: []string{"10.2.0.20/24"}},
		},
		Links: []render.TopoLink{
			{A: "host-a", B: "gw-a", Label: "1ms"}, {A: "gw-a", B: "nat", Label: "2ms"},
			{A: "nat", B: "gw-b", Label: "20ms"}, {A: "gw-b", B: "host-b", Label: "1ms"},
		},
		Peers: []render.TopoPeer{{A: "gw-a", B: "gw-b", Label: "IKE home aes128-sha256-modp2048"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("topology\n%+v\nwant\n%+v", got, want)
	}
}

// TestTopologyOfEvents reads the topology of hand-made traces: link impairments in
// words, a live node and its real peers, and a trace that records no topology, whose
// network is inferred from its messages.
func TestTopologyOfEvents(t *testing.T) {
	topo := func(node string, tp *trace.Topology) *trace.Event {
		return &trace.Event{Kind: trace.KindTopology, Node: node, Topology: tp}
	}
	for _, tc := range []struct {
		name   string
		events []*trace.Event
		want   *render.Topology
	}{
		{"impairments", []*trace.Event{
			topo("a", &trace.Topology{NodeKind: "host", Ifaces: []trace.Iface{{Prefix: "192.0.2.1/24", Peer: "b",
				Link: &trace.Link{Delay: trace.Seconds(20e6), Jitter: trace.Seconds(5e6), Loss: 0.3, Corrupt: 0.01, MTU: 1280}}}}),
			topo("b", &trace.Topology{NodeKind: "gateway", Ifaces: []trace.Iface{{Prefix: "192.0.2.2/24", Peer: "a"}},
				Conns: []trace.Conn{{Name: "c", Remote: []string{"192.0.2.1", "198.51.100.9"}, Proposals: []string{"aes128-sha256-ecp256", "aes256-sha384-ecp384"}}}}),
		}, &render.Topology{Name: "t",
			Nodes: []render.TopoNode{{Name: "a", Kind: "host", Addrs: []string{"192.0.2.1/24"}}, {Name: "b", Kind: "gateway", Addrs: []string{"192.0.2.2/24"}}},
			Links: []render.TopoLink{{A: "a", B: "b", Label: "20ms, ±5ms, 30% loss, 1% corrupted, MTU 1280"}},
			Peers: []render.TopoPeer{{A: "b", B: "a", Label: "IKE c aes128-sha256-ecp256,aes256-sha384-ecp384"}}}},
		{"live", []*trace.Event{
			topo("me", &trace.Topology{NodeKind: "gateway", Live: "192.0.2.1:500", Ifaces: []trace.Iface{{Prefix: "10.9.0.1/32"}}}),
			topo("moon", &trace.Topology{NodeKind: "peer", Live: "192.0.2.2"}),
		}, &render.Topology{Name: "t",
			Nodes: []render.TopoNode{{Name: "me", Kind: "gateway", Addrs: []string{"10.9.0.1/32"}}, {Name: "moon", Kind: "peer", Addrs: []string{"192.0.2.2"}}},
			Links: []render.TopoLink{{A: "me", B: "moon"}},
			Peers: []render.TopoPeer{{A: "me", B: "moon", Label: "IKE"}}}},
		{"no topology", []*trace.Event{
			{Kind: trace.KindInfo, Node: trace.ScenarioNode},
			{Kind: trace.KindMessage, Wire: &trace.Wire{From: "192.0.2.2", To: "192.0.2.1", Src: "192.0.2.2:500",
				SPIi: "0102030405060708"}},
			{Kind: trace.KindMessage, Wire: &trace.Wire{From: "192.0.2.1", To: "192.0.2.2", Src: "192.0.2.1:500",
				SPIi: "0102030405060708"}},
		}, &render.Topology{Name: "t",
			Nodes: []render.TopoNode{{Name: "192.0.2.2", Addrs: []string{"192.0.2.2"}}, {Name: "192.0.2.1", Addrs: []string{"192.0.2.1"}}},
			Links: []render.TopoLink{{A: "192.0.2.1", B: "192.0.2.2"}},
			Peers: []render.TopoPeer{{A: "192.0.2.1", B: "192.0.2.2", Label: "IKE"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := render.TopologyOf(&trace.Trace{Events: tc.events}, "t"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}
