// Package config turns the configurations of real gateways into a scenario and back:
// the part that strongSwan's swanctl.conf (package swanctl) and Cisco IOS (package ios)
// share. A format reads one gateway's file into a Node (connections and secrets in the
// scenario's vocabulary, with the file and line each came from); Import joins the nodes
// of a pair, or more, into a commented scenario file with an inferred topology, traffic
// and expectations; Diagnose says, in the words of the configurations, why a pair that
// should have come up did not.
//
// It is on floor 4 beside scenarios, which it builds on: it may import scenarios, ike and
// sim, and never render or a UI package.
package config
