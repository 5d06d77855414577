package trace

import "testing"

// TestNarrationLine: the pcapng comments of the scenario's own events and the opening
// topology events read as before nodes were given to them.
func TestNarrationLine(t *testing.T) {
	for _, tc := range []struct {
		e    Event
		want string
	}{
		{Event{Kind: KindInfo, Node: ScenarioNode, Text: "timeline: gw-a rekeys net"}, "timeline: gw-a rekeys net"},
		{Event{Kind: KindTopology, Node: "gw-a", Text: "node gw-a: gateway with 10.1.0.1/24"}, "gw-a: node gw-a: gateway with 10.1.0.1/24"},
		{Event{Kind: KindAction, Node: "gw-a", Text: "Acquire"}, "gw-a: Acquire"},
		{Event{Kind: KindTimer, Node: "gw-a", Timer: "DPD"}, ""},
	} {
		if got := narrationLine(&tc.e); got != tc.want {
			t.Errorf("%s event: %q, want %q", tc.e.Kind, got, tc.want)
		}
	}
}
