// Package scenarios reads ikesim's scenario files (a topology, IKE connections in
// swanctl.conf's vocabulary, a timeline of actions, faults and expectations), reports
// every problem in them with its file, line and column, builds the simulated network
// they describe, runs it and grades its expectations.
//
// It is on floor 4: it may import sim, ike, ike/ikev1, ike/ikev2 and ipsec, and must
// never import render or any UI package. The built-in scenarios are embedded from
// builtin/.
package scenarios
