// Package ipsec is the data plane of ikesim: the Security Policy Database and the
// Security Association Database of RFC 4301, ESP (RFC 4303) in tunnel and transport mode
// with UDP encapsulation for NAT traversal (RFC 3948), AH (RFC 4302) in both modes and as
// the outer SA of an AH+ESP bundle, the anti-replay window (RFC 4303,
// Section 3.4.3, kept as the bitmap of RFC 6479), and the IPv4, IPv6, ICMP, ICMPv6 and
// UDP packets that the simulated hosts send and answer (RFC 791, RFC 8200, RFC 792, RFC
// 4443, RFC 768), each with a dissection tree for the trace. ESP and AH run over IPv4
// and IPv6, and a tunnel mode SA carries either inside either (Next Header 4 or 41).
//
// The path of one packet:
//
//  1. A host builds an IPv4 packet (NewEchoRequest, NewUDPPacket, IPv4.Marshal).
//  2. The node looks up the outbound policy (SPD.Lookup with FlowOf). Discard drops it,
//     Bypass sends it as it is, Protect names a Child SA by its Reqid.
//  3. SAD.Outbound finds that SA; SA.Protect wraps the packet in ESP (and UDP on port
//     4500 behind a NAT), or in AH for an AH SA, and returns the outer IPv4 packet.
//  4. The peer's SAD.Unprotect finds the inbound SA by SPI, checks the anti-replay
//     window and the ICV, decrypts, checks the padding and that the inner packet lies
//     within the SA's selectors (RFC 4301, Section 5.2), and returns it; a refused packet
//     comes back as a *DropError whose Reason says why.
//  5. The peer checks the inner packet against its inbound policy (SPD.Lookup, In) and
//     answers pings with EchoReply.
//
// Dissector, DissectIPv4 and DissectESP turn packets into ike.Field trees; AH is
// dissected inside DissectIPv4, its ICV verified with the SA's key.
//
// It sits on floor 2 of ikesim: it imports package ike (the transform registry and the
// dissection type), the standard library and golang.org/x/crypto. It must never import
// sim, scenarios, render, ike/ikev1, ike/ikev2 or any UI package.
package ipsec
