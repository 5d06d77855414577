// Package ikev2test is a hostile IKEv2 peer for tests, in the spirit of net/http/httptest
// and wireguard-go's conn/bindtest: an in-memory network on a manual clock (Net), an
// observer that keeps what an engine reports (Recorder), and an attacker (Peer) that
// speaks IKEv2 through the project's own codec.
//
// A Peer completes IKE_SA_INIT with the daemon under test, so that it holds the IKE
// SA's real keys, and then sends any exchange, correctly protected, at any point of the
// handshake. It forges unprotected messages that carry the victim's SPIs, replays and
// reorders what was sent, and acts as a rogue responder to a daemon that initiates.
//
// It imports the standard library, ike, ike/ikev2 and ike/iketest (the manual clock,
// network and recorder it shares with ikev1test); only tests import it.
package ikev2test

import (
	"fmt"
	"net/netip"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/iketest"
	"github.com/ikesim/ikesim/ike/ikev2"
)

// Endpoint takes the datagrams the Net delivers to its address: an ike.Daemon, or a
// Peer.
type Endpoint = iketest.Endpoint

// Net connects endpoints by IP address on a manual clock (iketest.Net). A datagram
// arrives Delay after it was sent, datagrams sent at the same time arrive in the order
// sent, and a datagram to an address with no endpoint is lost. Nothing happens between
// calls to Run.
type Net struct {
	*iketest.Net
}

// NewNet makes an empty network whose endpoints draw their randomness from seed.
func NewNet(seed uint64) *Net { return &Net{iketest.NewNet(iketest.Start, seed)} }

// Daemon makes the IKEv2 engine of a node at addr with its connections, attached to the
// Net, and the Recorder it reports to.
func (n *Net) Daemon(addr string, conns ...*ike.Connection) (*ikev2.Daemon, *Recorder, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("ikev2test: %v", err)
	}
	rec := &Recorder{}
	d, err := ikev2.New(n.Env(a, rec), addr, conns)
	if err != nil {
		return nil, nil, err
	}
	n.Attach(a, d)
	return d, rec, nil
}
