package iketest

import (
	"net/netip"

	"github.com/ikesim/ikesim/ike"
)

// Discard is a transport and an observer that keep nothing: what a benchmark of an
// engine alone needs.
type Discard struct{}

func (Discard) Send(ike.Datagram)                            {}
func (Discard) SendKeepalive(netip.AddrPort, netip.AddrPort) {}
func (Discard) Action(string)                                {}
func (Discard) State(ike.StateChange)                        {}
func (Discard) Received(ike.Datagram)                        {}
func (Discard) Dropped(ike.Datagram, string)                 {}
func (Discard) IKESAUp(*ike.IKESAInfo)                       {}
func (Discard) IKESADown(*ike.IKESAInfo, string)             {}
func (Discard) ChildSAUp(*ike.ChildSAInfo)                   {}
func (Discard) ChildSADown(*ike.ChildSAInfo, string)         {}
func (Discard) Error(ike.Failure)                            {}
func (Discard) NATDetected(ike.NATInfo)                      {}

var (
	_ ike.Transport = Discard{}
	_ ike.Observer  = Discard{}
)
