package ikev2

import (
	"net/netip"

	"github.com/ikesim/ikesim/ike/daemon"
)

// SAStatus is where one IKE SA stands, as swanctl --list-sas shows it, with the message
// ID window of RFC 7296, Section 2.3 besides: what a test or a status display needs
// without reading the trace.
type SAStatus struct {
	Conn       string // "" while a responder has not matched a connection
	SPIi, SPIr uint64
	Initiator  bool   // this side is the original initiator
	State      string // CONNECTING, ESTABLISHED, REKEYING, REKEYED, DELETING
	HalfOpen   bool   // a responder's SA that counts against the half-open limits
	Local      netip.AddrPort
	Remote     netip.AddrPort
	// NextRequestID is the message ID of the next request this side sends;
	// Outstanding reports that a request of this side awaits its response.
	NextRequestID uint32
	Outstanding   bool
	// NextPeerID is the message ID the next new request from the peer must carry.
	NextPeerID uint32
	Children   []ChildStatus
}

// ChildStatus is one Child SA of an IKE SA.
type ChildStatus struct {
	Name          string
	State         string // INSTALLED, REKEYING, REKEYED, DELETING
	SPIIn, SPIOut uint32
}

// SAs lists the node's IKE SAs in the order they were made.
func (d *Daemon) SAs() []SAStatus {
	list := d.sortedSAs()
	out := make([]SAStatus, len(list))
	for i, sa := range list {
		out[i] = sa.status()
	}
	return out
}

// sortedSAs lists the IKE SAs in the order they were made: for walks whose order shows
// in the trace.
func (d *Daemon) sortedSAs() []*ikeSA {
	return daemon.InOrder(d.sas, func(sa *ikeSA) int { return sa.serial })
}

func (sa *ikeSA) status() SAStatus {
	s := SAStatus{SPIi: sa.spiI, SPIr: sa.spiR, Initiator: sa.initiator, State: sa.state.String(),
		HalfOpen: sa.halfOpen, Local: sa.local, Remote: sa.remote, NextRequestID: sa.nextRequestID,
		Outstanding: sa.outstanding != nil, NextPeerID: sa.nextPeerID}
	if sa.conn != nil {
		s.Conn = sa.conn.Name
	}
	for _, ch := range sa.children {
		s.Children = append(s.Children, ChildStatus{Name: ch.cfg.Name, State: ch.state, SPIIn: ch.spiIn, SPIOut: ch.spiOut})
	}
	return s
}

// HalfOpen counts the responder's half-open IKE SAs: those that answered IKE_SA_INIT and
// have not completed IKE_AUTH, in all and from one peer address.
func (d *Daemon) HalfOpen(from netip.Addr) (total, fromAddr int) {
	return d.halfOpen.Count(from)
}
