package trace

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/ikesim/ikesim/ike"
)

// The trace records of the SAs an IKE engine reports.

// IKESARecord describes an IKE SA with its keys, for the trace and the key tables.
func IKESARecord(sa *ike.IKESAInfo) *SARecord {
	r := &SARecord{Type: ike.SATypeIKE, Version: sa.Version, Conn: sa.Conn, Local: sa.Local.String(), Remote: sa.Remote.String(),
		Peer: sa.RemoteID.String(), Initiator: sa.Initiator, Proposal: sa.Proposal.String(),
		SPIi: Hex64(sa.SPIi), SPIr: Hex64(sa.SPIr), SKei: sa.SKei, SKer: sa.SKer, SKai: sa.SKai, SKar: sa.SKar, EncKey: sa.EncKey}
	r.Encr, r.EncrKeyBits, r.Integ = transformIDs(sa.Proposal)
	r.Instance = sa.Instance
	if sa.RekeyOf != 0 {
		r.Rekeys = Hex64(sa.RekeyOf)
	}
	return r
}

// ChildSARecord describes a Child SA that came up, with its keys.
func ChildSARecord(c *ike.ChildSAInfo) *SARecord {
	mode := "tunnel"
	if c.Transport {
		mode = "transport"
	}
	r := &SARecord{Type: ike.SATypeChild, Conn: c.Conn, Child: c.Child, ReqID: c.ReqID, Protocol: protoName(c.Protocol), Local: c.Local.String(), Remote: c.Remote.String(),
		Proposal: c.Proposal.String(), Mode: mode, Encap: c.Encap,
		SPIIn: Hex32(c.SPIIn), SPIOut: Hex32(c.SPIOut),
		EncrKeyIn: c.EncrKeyIn, IntegKeyIn: c.IntegKeyIn, EncrKeyOut: c.EncrKeyOut, IntegKeyOut: c.IntegKeyOut,
		LocalTS: Selectors(c.LocalTS), RemoteTS: Selectors(c.RemoteTS), LifeTime: Seconds(c.LifeTime)}
	r.Encr, r.EncrKeyBits, r.Integ = transformIDs(c.Proposal)
	r.Instance = c.Instance
	if c.Rekeyed != 0 {
		r.Rekeys = Hex32(c.Rekeyed)
	}
	return r
}

// ChildSADownRecord describes a Child SA that went down.
func ChildSADownRecord(c *ike.ChildSAInfo, reason string) *SARecord {
	return &SARecord{Type: ike.SATypeChild, Conn: c.Conn, Child: c.Child, Instance: c.Instance, ReqID: c.ReqID,
		Protocol: protoName(c.Protocol), SPIIn: Hex32(c.SPIIn), SPIOut: Hex32(c.SPIOut), Reason: reason}
}

// transformIDs are the encryption transform (with its key length) and the integrity
// transform of a selected proposal.
func transformIDs(p ike.Proposal) (encr uint16, keyBits int, integ uint16) {
	if t, ok := p.Transform(ike.TransformENCR); ok {
		encr, keyBits = t.ID, t.KeyLen
	}
	if t, ok := p.Transform(ike.TransformINTEG); ok {
		integ = t.ID
	}
	return encr, keyBits, integ
}

// Hex64 writes an IKE SPI as the trace does: 16 lower-case hex digits.
func Hex64(v uint64) string {
	var b [8]byte
	var h [16]byte
	binary.BigEndian.PutUint64(b[:], v)
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// Hex32 writes an ESP or AH SPI as the trace does: 8 lower-case hex digits.
func Hex32(v uint32) string {
	var b [4]byte
	var h [8]byte
	binary.BigEndian.PutUint32(b[:], v)
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// Selectors writes traffic selectors as the trace does: "10.1.0.0/24".
func Selectors(ts []ike.TrafficSelector) []string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return s
}

// protoName is the trace's name of an SA's protocol: ike, esp or ah.
func protoName(p ike.Protocol) string {
	switch p {
	case ike.ProtoIKE:
		return "ike"
	case ike.ProtoAH:
		return "ah"
	}
	return "esp"
}
