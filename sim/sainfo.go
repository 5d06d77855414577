package sim

import (
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
)

// What a host does with the SAs an IKE engine reports: the trace records of IKE and Child
// SAs, the ESP SAs and protect policies of a Child SA. The simulated node and the live
// host on real sockets (sim/live) share them.

// IKESARecord describes an IKE SA with its keys, for the trace and the key tables.
func IKESARecord(sa *ike.IKESAInfo) *SARecord {
	r := &SARecord{Type: "ike", Version: sa.Version, Conn: sa.Conn, Local: sa.Local.String(), Remote: sa.Remote.String(),
		Peer: sa.RemoteID.String(), Initiator: sa.Initiator, Proposal: sa.Proposal.String(),
		SPIi: hex64(sa.SPIi), SPIr: hex64(sa.SPIr), SKei: sa.SKei, SKer: sa.SKer, SKai: sa.SKai, SKar: sa.SKar, EncKey: sa.EncKey}
	r.Encr, r.EncrKeyBits, r.Integ = transformIDs(sa.Proposal)
	return r
}

// ChildSARecord describes a Child SA that came up, with its keys.
func ChildSARecord(c *ike.ChildSAInfo) *SARecord {
	mode := "tunnel"
	if c.Transport {
		mode = "transport"
	}
	r := &SARecord{Type: "child", Conn: c.Conn, Child: c.Child, Local: c.Local.String(), Remote: c.Remote.String(),
		Proposal: c.Proposal.String(), Mode: mode, Encap: c.Encap,
		SPIIn: fmt.Sprintf("%08x", c.SPIIn), SPIOut: fmt.Sprintf("%08x", c.SPIOut),
		EncrKeyIn: c.EncrKeyIn, IntegKeyIn: c.IntegKeyIn, EncrKeyOut: c.EncrKeyOut, IntegKeyOut: c.IntegKeyOut,
		LocalTS: tsStrings(c.LocalTS), RemoteTS: tsStrings(c.RemoteTS), LifeTime: Seconds(c.LifeTime)}
	r.Encr, r.EncrKeyBits, r.Integ = transformIDs(c.Proposal)
	return r
}

// ChildSADownRecord describes a Child SA that went down.
func ChildSADownRecord(c *ike.ChildSAInfo, reason string) *SARecord {
	return &SARecord{Type: "child", Conn: c.Conn, Child: c.Child,
		SPIIn: fmt.Sprintf("%08x", c.SPIIn), SPIOut: fmt.Sprintf("%08x", c.SPIOut), Reason: reason}
}

// transformIDs are the encryption transform (with its key length) and the integrity
// transform of a selected proposal.
func transformIDs(p ike.Proposal) (encr uint16, keyBits int, integ uint16) {
	if t, ok := pick(p, ike.TransformENCR); ok {
		encr, keyBits = t.ID, t.KeyLen
	}
	if t, ok := pick(p, ike.TransformINTEG); ok {
		integ = t.ID
	}
	return encr, keyBits, integ
}

// NewChildSAs makes the inbound and outbound ESP SAs of a Child SA. rand gives the CBC
// IVs, created is when they are installed and nextID numbers the outer headers of
// tunnel mode packets.
func NewChildSAs(c *ike.ChildSAInfo, rand io.Reader, created time.Time, nextID func() uint16) (in, out *ipsec.SA, err error) {
	et, ok := pick(c.Proposal, ike.TransformENCR)
	if !ok {
		return nil, nil, fmt.Errorf("no encryption transform")
	}
	encr := ike.Encr(et.ID)
	if encr == nil {
		return nil, nil, fmt.Errorf("unknown encryption transform %d", et.ID)
	}
	var integ *ike.IntegAlg
	if it, ok := pick(c.Proposal, ike.TransformINTEG); ok && it.ID != 0 {
		if integ = ike.Integ(it.ID); integ == nil {
			return nil, nil, fmt.Errorf("unknown integrity transform %d", it.ID)
		}
	}
	esn := false
	if t, ok := pick(c.Proposal, ike.TransformESN); ok {
		esn = t.ID == 1
	}
	mode := ipsec.Tunnel
	if c.Transport {
		mode = ipsec.Transport
	}
	mk := func(spi uint32, src, dst netip.AddrPort, ek, ik []byte) *ipsec.SA {
		sa := &ipsec.SA{SPI: spi, Src: src.Addr(), Dst: dst.Addr(), Reqid: c.ReqID, Encr: encr, EncrKeyBits: et.KeyLen,
			EncrKey: ek, Integ: integ, IntegKey: ik, Mode: mode, ESN: esn, Rand: rand, Created: created, NextID: nextID}
		if c.Encap {
			sa.Encap = &ipsec.UDPEncap{SrcPort: src.Port(), DstPort: dst.Port()}
		}
		return sa
	}
	in = mk(c.SPIIn, c.Remote, c.Local, c.EncrKeyIn, c.IntegKeyIn)
	out = mk(c.SPIOut, c.Local, c.Remote, c.EncrKeyOut, c.IntegKeyOut)
	return in, out, nil
}

// InstallPolicies adds to spd the protect policies of a Child SA: traffic from each
// local selector to each remote one (out) and back (in), unless an equal policy is there.
func InstallPolicies(spd *ipsec.SPD, reqid uint32, name string, local, remote []ike.TrafficSelector) {
	for _, l := range local {
		for _, r := range remote {
			addPolicy(spd, name, ipsec.Out, l, r, reqid)
			addPolicy(spd, name, ipsec.In, r, l, reqid)
		}
	}
}

// addPolicy adds a protect policy for traffic from src to dst unless an equal one exists.
func addPolicy(spd *ipsec.SPD, name string, dir ipsec.Direction, src, dst ike.TrafficSelector, reqid uint32) {
	sel := ipsec.Selector{Src: ipsec.AddrRange{First: src.Start, Last: src.End}, Dst: ipsec.AddrRange{First: dst.Start, Last: dst.End},
		Proto: src.Proto, SrcPort: ipsec.PortRange{First: src.StartPort, Last: src.EndPort},
		DstPort: ipsec.PortRange{First: dst.StartPort, Last: dst.EndPort}}
	for _, p := range spd.Policies() {
		if p.Direction == dir && p.Selector == sel && p.Reqid == reqid {
			return
		}
	}
	spd.Add(&ipsec.Policy{Name: name, Priority: ipsec.DefaultPriority(sel), Direction: dir, Selector: sel,
		Action: ipsec.ActionProtect, Reqid: reqid})
}

// PacketSummary describes an IPv4 packet in one line, as the trace shows what ESP
// carries: "ICMP echo request 10.1.0.10 → 10.2.0.20 seq 1".
func PacketSummary(ip *ipsec.IPv4) string {
	if ip.Protocol == protoICMP {
		if ic, err := ipsec.ParseICMP(ip.Payload); err == nil {
			name := "ICMP type " + fmt.Sprint(ic.Type)
			switch ic.Type {
			case ipsec.ICMPEchoRequest:
				name = "ICMP echo request"
			case ipsec.ICMPEchoReply:
				name = "ICMP echo reply"
			}
			return fmt.Sprintf("%s %s → %s seq %d", name, ip.Src, ip.Dst, ic.Seq)
		}
	}
	return fmt.Sprintf("%s %s → %s", protoName(ip), ip.Src, ip.Dst)
}
