package sim

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// The host stack a simulated node and a live host (sim/live) share: the ESP SAs and
// protect policies of a Child SA an IKE engine reports.

// ESPDropCause is the trace's cause for an inbound ESP packet the SAD refused with err:
// selectors when it decrypted to a packet outside its Child SA's selectors (RFC 4301,
// Section 5.2), esp for every other refusal.
func ESPDropCause(err error) trace.DropCause {
	if errors.Is(err, ipsec.DropSelectors) {
		return trace.DropSelectors
	}
	return trace.DropESP
}

// IPsecDropOf is the trace's fact of a packet the SAD refused with err; proto is ESP or
// AH, the packet's outer IPsec header.
func IPsecDropOf(proto string, err error) *trace.IPsecDrop {
	d := &trace.IPsecDrop{Proto: strings.ToLower(proto), Reason: "other"}
	var de *ipsec.DropError
	if errors.As(err, &de) {
		d.Reason, d.Seq, d.AddressChanged = de.Reason.String(), de.Seq, de.AddressChanged
		if de.SPI != 0 {
			d.SPI = fmt.Sprintf("%08x", de.SPI)
		}
	}
	return d
}

// NewChildSAs makes the inbound and outbound IPsec SAs of a Child SA. rand gives the CBC
// IVs, created is when they are installed and nextID numbers the outer headers of
// tunnel mode packets.
//
// An AH Child SA (Protocol ProtoAH) makes AH SAs. One with Bundle set goes over the ESP
// SA of its ReqID: in transport mode between the outer addresses, with no selectors of
// its own, since the ESP SA inside it checks them.
func NewChildSAs(c *ike.ChildSAInfo, rand io.Reader, created time.Time, nextID func() uint16) (in, out *ipsec.SA, err error) {
	var encr *ike.EncrAlg
	et, ok := c.Proposal.Transform(ike.TransformENCR)
	switch {
	case c.Protocol == ike.ProtoAH:
	case !ok:
		return nil, nil, fmt.Errorf("no encryption transform")
	case ike.Encr(et.ID) == nil:
		return nil, nil, fmt.Errorf("unknown encryption transform %d", et.ID)
	default:
		encr = ike.Encr(et.ID)
	}
	var integ *ike.IntegAlg
	if it, ok := c.Proposal.Transform(ike.TransformINTEG); ok && it.ID != 0 {
		if integ = ike.Integ(it.ID); integ == nil {
			return nil, nil, fmt.Errorf("unknown integrity transform %d", it.ID)
		}
	}
	esn := false
	if t, ok := c.Proposal.Transform(ike.TransformESN); ok {
		esn = t.ID == 1
	}
	mode := ipsec.Tunnel
	if c.Transport || c.Bundle {
		mode = ipsec.Transport
	}
	proto := ipsec.ProtoESP
	if c.Protocol == ike.ProtoAH {
		proto = ipsec.ProtoAH
	}
	mk := func(spi uint32, src, dst netip.AddrPort, ek, ik []byte) *ipsec.SA {
		sa := &ipsec.SA{SPI: spi, Protocol: proto, Src: src.Addr(), Dst: dst.Addr(), Reqid: c.ReqID, Encr: encr, EncrKeyBits: et.KeyLen,
			EncrKey: ek, Integ: integ, IntegKey: ik, Mode: mode, ESN: esn, Rand: rand, Created: created, NextID: nextID,
			NAT: c.BehindNAT}
		if c.Encap {
			sa.Encap = &ipsec.UDPEncap{SrcPort: src.Port(), DstPort: dst.Port()}
		}
		return sa
	}
	in = mk(c.SPIIn, c.Remote, c.Local, c.EncrKeyIn, c.IntegKeyIn)
	out = mk(c.SPIOut, c.Local, c.Remote, c.EncrKeyOut, c.IntegKeyOut)
	if c.Bundle {
		return in, out, nil
	}
	// What comes out of the inbound SA must lie within the negotiated selectors (RFC
	// 4301, Section 5.2): ipsec checks it after decryption, here and in live mode alike.
	for _, l := range c.LocalTS {
		for _, r := range c.RemoteTS {
			in.Selectors = append(in.Selectors, ipsec.SelectorOf(r, l))
		}
	}
	return in, out, nil
}

// InstallPolicies adds to spd the protect policies of a Child SA: traffic from each
// local selector to each remote one (out) and back (in), unless an equal policy is there.
// It returns the policies it added.
func InstallPolicies(spd *ipsec.SPD, reqid uint32, name string, local, remote []ike.TrafficSelector) []*ipsec.Policy {
	var added []*ipsec.Policy
	for _, l := range local {
		for _, r := range remote {
			for _, p := range []*ipsec.Policy{addPolicy(spd, name, ipsec.Out, l, r, reqid), addPolicy(spd, name, ipsec.In, r, l, reqid)} {
				if p != nil {
					added = append(added, p)
				}
			}
		}
	}
	return added
}

// addPolicy adds a protect policy for traffic from src to dst unless an equal one exists;
// it returns the policy added, or nil.
func addPolicy(spd *ipsec.SPD, name string, dir ipsec.Direction, src, dst ike.TrafficSelector, reqid uint32) *ipsec.Policy {
	sel := ipsec.SelectorOf(src, dst)
	p := &ipsec.Policy{Name: name, Priority: ipsec.DefaultPriority(sel), Direction: dir, Selector: sel,
		Action: ipsec.ActionProtect, Reqid: reqid}
	if added, _ := spd.AddUnique(p); !added {
		return nil
	}
	return p
}

// PacketSummary describes an IPv4 packet in one line, as the trace shows what ESP
// carries: "ICMP echo request 10.1.0.10 → 10.2.0.20 seq 1".
func PacketSummary(ip *ipsec.IPv4) string {
	if ip.Protocol == ipsec.ProtoICMP || ip.Protocol == ipsec.ProtoICMPv6 {
		if ic, err := parseICMP(ip); err == nil {
			name := "ICMP type " + fmt.Sprint(ic.Type)
			switch {
			case ic.Type == ipsec.ICMPEchoRequest && !ip.Is6():
				name = "ICMP echo request"
			case ic.Type == ipsec.ICMPEchoReply && !ip.Is6():
				name = "ICMP echo reply"
			case ic.Type == ipsec.ICMPv6EchoRequest:
				name = "ICMPv6 echo request"
			case ic.Type == ipsec.ICMPv6EchoReply:
				name = "ICMPv6 echo reply"
			case ip.Is6():
				name = "ICMPv6 type " + fmt.Sprint(ic.Type)
			}
			return fmt.Sprintf("%s %s → %s seq %d", name, ip.Src, ip.Dst, ic.Seq)
		}
	}
	return fmt.Sprintf("%s %s → %s", protoName(ip), ip.Src, ip.Dst)
}

// parseICMP reads the ICMP message of an IPv4 packet or the ICMPv6 message of an IPv6
// one, with its checksum checked.
func parseICMP(ip *ipsec.IPv4) (ipsec.ICMP, error) {
	if ip.Protocol == ipsec.ProtoICMPv6 {
		return ipsec.ParseICMPv6(ip.Payload, ip.Src, ip.Dst)
	}
	return ipsec.ParseICMP(ip.Payload)
}
