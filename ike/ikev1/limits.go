package ikev1

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// Limits bound what peers that have not authenticated can make a responder hold, as
// strongSwan bounds it (charon's receiver and ike_sa_manager, the settings of
// strongswan.conf's charon section of the same names): a first main or aggressive mode
// message is ignored while too many ISAKMP SAs of this node, or of the sender's address,
// are half-open (answered, with phase 1 not complete), and a half-open SA is freed when
// its phase 1 has not completed in time. IKEv1 has no cookie exchange: these limits are
// its only defence against a flood of first messages.
//
// The zero value of each field means its default; a negative count means no limit.
type Limits struct {
	// InitLimitHalfOpen is how many ISAKMP SAs may be half-open at once
	// (charon.init_limit_half_open).
	InitLimitHalfOpen int
	// BlockThreshold is how many of them one peer address may hold
	// (charon.block_threshold).
	BlockThreshold int
	// HalfOpenTimeout frees a half-open SA (charon.half_open_timeout).
	HalfOpenTimeout time.Duration
}

// Defaults of Limits. strongSwan blocks a sixth half-open SA from one address and frees
// half-open SAs after 30 s; it puts no limit on the total unless configured, where
// ikesim's IKEv1 keeps one, so that no flood of first messages grows a node's memory
// without a bound.
const (
	DefaultInitLimitHalfOpen = 1000
	DefaultBlockThreshold    = 5
	DefaultHalfOpenTimeout   = 30 * time.Second
)

// SetLimits sets the node's half-open limits; zero fields take their defaults.
func (d *Daemon) SetLimits(l Limits) {
	if l.InitLimitHalfOpen == 0 {
		l.InitLimitHalfOpen = DefaultInitLimitHalfOpen
	}
	if l.BlockThreshold == 0 {
		l.BlockThreshold = DefaultBlockThreshold
	}
	if l.HalfOpenTimeout <= 0 {
		l.HalfOpenTimeout = DefaultHalfOpenTimeout
	}
	d.limits = l
}

// LimitsFrom reads a node's charon settings (ike.Limits, shared with IKEv2) as IKEv1
// applies them, strongSwan's way: block_threshold (raised above cookie_threshold_ip, as
// charon raises it) bounds the half-open ISAKMP SAs of one address, zero turning it off;
// init_limit_half_open bounds them all. IKEv1 has no cookies, so where IKEv2 may leave
// the total unbounded (init_limit_half_open 0, strongSwan's default) an IKEv1 responder
// keeps DefaultInitLimitHalfOpen. The cookie thresholds do not apply.
func LimitsFrom(l ike.Limits) Limits {
	l = l.Normalized()
	out := Limits{InitLimitHalfOpen: l.InitLimitHalfOpen, BlockThreshold: l.BlockThreshold}
	if out.BlockThreshold == 0 {
		out.BlockThreshold = -1
	}
	return out
}

// overLimit says why a first phase 1 message from peer must be ignored, or "".
func (d *Daemon) overLimit(peer netip.Addr) string {
	total, from := d.halfOpenCount.Count(peer)
	switch l := d.limits; {
	case l.BlockThreshold > 0 && from >= l.BlockThreshold:
		return fmt.Sprintf("%d ISAKMP SAs from %s are half-open already (block_threshold %d): ignore a new one",
			from, peer, l.BlockThreshold)
	case l.InitLimitHalfOpen > 0 && total >= l.InitLimitHalfOpen:
		return fmt.Sprintf("%d ISAKMP SAs are half-open already (init_limit_half_open %d): ignore a new one", total, l.InitLimitHalfOpen)
	}
	return ""
}

// HalfOpen counts the ISAKMP SAs this node responded to whose phase 1 has not completed,
// in all and from one peer address.
func (d *Daemon) HalfOpen(from netip.Addr) (total, fromAddr int) {
	return d.halfOpenCount.Count(from)
}

// SAStatus is where one ISAKMP SA stands: what a test or a status display needs without
// reading the trace.
type SAStatus struct {
	Conn             string
	ICookie, RCookie uint64
	Initiator        bool
	State            State // the Cisco IOS state name: IKE_R_MM4, IKE_P1_COMPLETE, ...
	Established      bool  // phase 1 is complete
	Ready            bool  // and XAUTH and Mode Config too: quick modes may run
	HalfOpen         bool  // a responder's SA that counts against the half-open limits
	Local, Remote    netip.AddrPort
	QuickModes       int // quick modes in progress
	Exchanges        int // exchanges whose messages it remembers (to answer retransmissions)
	Children         []ChildStatus
}

// ChildStatus is one IPsec SA pair of an ISAKMP SA.
type ChildStatus struct {
	Name          string
	State         State
	SPIIn, SPIOut uint32
}

// SAs lists the node's ISAKMP SAs in the order they were made.
func (d *Daemon) SAs() []SAStatus {
	var out []SAStatus
	for _, sa := range d.sortedSAs() {
		s := SAStatus{ICookie: sa.icookie, RCookie: sa.rcookie, Initiator: sa.initiator, State: sa.state,
			Established: sa.established, Ready: sa.ready, HalfOpen: sa.halfOpen != nil, Local: sa.local, Remote: sa.remote,
			QuickModes: len(sa.quickModes), Exchanges: len(sa.flights)}
		if sa.conn != nil {
			s.Conn = sa.conn.Name
		}
		for _, ch := range sa.children {
			s.Children = append(s.Children, ChildStatus{Name: ch.cfg.Name, State: ch.state, SPIIn: ch.spiIn, SPIOut: ch.spiOut})
		}
		out = append(out, s)
	}
	return slices.Clip(out)
}
