// Package sim is ikesim's discrete-event simulator: a virtual clock and scheduler,
// nodes with IPv4 stacks, links that delay, lose, duplicate, reorder and corrupt
// datagrams, NAT boxes; every message, action, state change, timer and SA goes into a
// trace (sim/trace) through each node's trace.Recorder. Import reads a capture into a
// trace of the same format.
//
// sim hosts the protocol engines (ike/ikev2, ike/ikev1) through the ike.Transport,
// ike.Clock and ike.Observer interfaces. Each node's Stack (hoststack.go) installs the
// Child SAs they report into its ipsec SAD and SPD, queues the packets that wait for one,
// hands a rekeyed SA over to its successor, runs ESP and AH in and out and answers
// pings; a live host (sim/live) runs on the same Stack, with its sockets under it
// instead of the simulated wires (StackHost). It must never import scenarios, render or
// any UI package (ARCHITECTURE.md).
//
// Everything random comes from one seed: each consumer gets its own stream derived from
// the seed and a name, so that, for example, changing a link's loss does not change the
// SPIs a gateway draws. The same seed gives byte-identical traces.
package sim
