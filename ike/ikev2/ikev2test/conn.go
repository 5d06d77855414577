package ikev2test

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/iketest"
	"github.com/ikesim/ikesim/ike/ikev2"
)

// ID is the identity PSKConn gives the node at addr: the FQDN node-<addr>.
func ID(addr string) ike.Identity {
	return ike.Identity{Type: ike.IDFQDN, Value: []byte("node-" + addr)}
}

// PSKConn is an IKEv2 connection named "c" from local to remote (addresses) with a
// pre-shared key, one IKE and one ESP proposal in strongSwan's notation, the identities
// ID(local) and ID(remote), and one child "net" between the two addresses, started by
// traffic.
func PSKConn(local, remote, psk, ikeProposal, espProposal string) (*ike.Connection, error) {
	l, err := netip.ParseAddr(local)
	if err != nil {
		return nil, fmt.Errorf("ikev2test: %v", err)
	}
	r, err := netip.ParseAddr(remote)
	if err != nil {
		return nil, fmt.Errorf("ikev2test: %v", err)
	}
	return iketest.PSK{Name: "c", Version: 2, Local: l, Remote: r, LocalID: ID(local), RemoteID: ID(remote), Key: psk,
		IKE: ikeProposal, ESP: espProposal, LocalTS: netip.PrefixFrom(l, 32), RemoteTS: netip.PrefixFrom(r, 32),
		StartAction: ike.StartTrigger}.Connection()
}

// TS is a TSi (or, with responder, TSr) payload of whole prefixes, any protocol and
// port.
func TS(responder bool, prefixes ...netip.Prefix) *ikev2.TS {
	t := &ikev2.TS{Responder: responder}
	for _, p := range prefixes {
		s := ike.TSFromPrefix(p)
		typ := ikev2.TSIPv4AddrRange
		if s.Start.Is6() {
			typ = ikev2.TSIPv6AddrRange
		}
		t.Selectors = append(t.Selectors, ikev2.TrafficSelector{Type: typ, EndPort: s.EndPort, StartAddr: s.Start, EndAddr: s.End})
	}
	return t
}

// ChildSA is the SA payload that proposes an ESP Child SA with inbound SPI spi.
func ChildSA(spi uint32, esp ike.Proposal) *ikev2.SA { return ikev2.NewSA(SPI(spi), esp) }

// SPI is a 32-bit SPI as the four bytes of a Proposal, Notify or Delete.
func SPI(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// SPI64 is an IKE SPI as the eight bytes of a Proposal.
func SPI64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
