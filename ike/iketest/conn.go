package iketest

import (
	"net/netip"

	"github.com/ikesim/ikesim/ike"
)

// PSK describes a connection with a pre-shared key and one child "net": what the
// attacker test peers and the engines' tests set up most.
type PSK struct {
	Name              string
	Version           int // 1 or 2
	Local, Remote     netip.Addr
	LocalID, RemoteID ike.Identity
	Key               string
	// IKE and ESP are one proposal each, in strongSwan's notation.
	IKE, ESP          string
	LocalTS, RemoteTS netip.Prefix // the child's selectors
	StartAction       ike.StartAction
}

// Connection is the connection p describes.
func (p PSK) Connection() (*ike.Connection, error) {
	ikeP, err := ike.ParseProposal(p.IKE, ike.ProtoIKE)
	if err != nil {
		return nil, err
	}
	espP, err := ike.ParseProposal(p.ESP, ike.ProtoESP)
	if err != nil {
		return nil, err
	}
	return &ike.Connection{Name: p.Name, Version: p.Version, LocalAddrs: []netip.Addr{p.Local}, RemoteAddrs: []netip.Addr{p.Remote},
		Proposals: []ike.Proposal{ikeP},
		Local:     ike.AuthConfig{Method: "psk", ID: p.LocalID, PSK: []byte(p.Key)},
		Remote:    ike.AuthConfig{Method: "psk", ID: p.RemoteID, PSK: []byte(p.Key)},
		Children: []*ike.ChildConfig{{Name: "net", ESPProposals: []ike.Proposal{espP}, StartAction: p.StartAction,
			LocalTS:  []ike.TrafficSelector{ike.TSFromPrefix(p.LocalTS)},
			RemoteTS: []ike.TrafficSelector{ike.TSFromPrefix(p.RemoteTS)}}},
	}, nil
}

// AddrID is the identity of an address (ID_IPV4_ADDR or ID_IPV6_ADDR).
func AddrID(a netip.Addr) ike.Identity {
	id, _ := ike.ParseIdentity(a.String())
	return id
}
