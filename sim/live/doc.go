// Package live runs one ikesim node on real UDP sockets against a real IKE peer, such
// as strongSwan's charon, on the wall clock, and records the same trace a simulated run
// does (trace.Event), for ikesim's renderers and terminal walkthrough.
//
// A Host hosts an IKE engine (ike/ikev2, ike/ikev1 or an ike.Mux of both) as sim.Node
// does: it is the engine's ike.Transport, ike.Clock and ike.Observer, and it runs on the
// simulated node's host stack (sim.Stack), which installs the Child SAs the engine
// reports into an ipsec SAD and SPD and runs ESP in userspace, UDP-encapsulated on the
// same socket as IKE. It answers the pings (ICMP and ICMPv6) that reach the node's inner
// addresses through a Child SA, and sends pings of its own through them.
//
// Framing follows strongSwan's rule: on a datagram between two ports neither of which is
// 500, every IKE message carries the non-ESP marker and anything without it is ESP
// (RFC 3948, Section 2.2), as on port 4500.
//
// The engines are single-threaded: every callback (a datagram, a timer, a command from
// another goroutine through Host.Do) runs on the goroutine that runs Host.Run.
//
// The peer may be hostile, and no datagram may stop the node or grow its memory without
// a bound. A datagram that is not answered is dropped with a drop event that gives the
// cause. A panic in a callback is a bug, but a last-resort recover records it as an
// error event with its stack and drops the datagram being handled, and the node goes on.
// The trace in memory is a window of the newest events (Config.Window); a caller that
// wants every event streams them from OnEvent.
//
// live imports sim/trace for the trace and its Recorder, sim for the host stack, ipsec
// and ike. It must never import scenarios, render or any UI package: the command line
// wires a scenario's node to it.
package live
