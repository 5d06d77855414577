package ike

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"time"
)

// Connection is one IKE connection of a node, in the vocabulary of strongSwan's
// swanctl.conf: who the peers are, what they offer, how they authenticate, and the
// Child SAs they build. Both IKE engines read it; scenario files fill it in.
type Connection struct {
	Name        string
	Version     int // 1 or 2
	LocalAddrs  []netip.Addr
	RemoteAddrs []netip.Addr
	Proposals   []Proposal // IKE (phase 1) proposals, preferred first
	Local       AuthConfig
	Remote      AuthConfig
	Children    []*ChildConfig
	DPDDelay    time.Duration // 0 = no liveness checks
	RekeyTime   time.Duration // IKE SA rekey interval; 0 = never
	LifeTime    time.Duration // hard IKE SA lifetime; 0 = none
	Encap       bool          // force UDP encapsulation (pretend a NAT)
	Aggressive  bool          // IKEv1 aggressive mode
	Childless   bool          // IKEv2: IKE_AUTH without a Child SA (RFC 6023)
	// Retransmission: the first timeout, the factor it grows by, and how many tries.
	RetransmitTimeout time.Duration
	RetransmitBase    float64
	RetransmitTries   int
	// Keepalive is the NAT keep-alive interval when behind a NAT (RFC 3948); 0 = 20 s.
	Keepalive time.Duration
	// DPDTimeout is how long an IKEv1 peer may leave an R-U-THERE unanswered before it
	// counts as dead (swanctl.conf's dpd_timeout; 0: five times the retransmission
	// timeout, as the engine's retransmissions give up).
	DPDTimeout time.Duration
	// Unique is the uniqueness policy of IKE SAs by identity (swanctl.conf's unique):
	// no, never, keep or replace; "" is no.
	Unique string
	// ReauthTime is when the IKE SA is reauthenticated: made anew by IKE_SA_INIT and
	// IKE_AUTH, make-before-break (swanctl.conf's reauth_time; 0: never).
	ReauthTime time.Duration
	// CookieThreshold makes a responder demand a COOKIE once this many half-open IKE SAs
	// exist (0 = never).
	CookieThreshold int
	// Pools are the virtual IP pools a responder assigns from (Mode Config / CP).
	Pools []netip.Prefix
	DNS   []netip.Addr
	// RequestVIP makes an initiator ask for a virtual IP (CP / Mode Config);
	// RequestVIP6 for an IPv6 one instead (IKEv2 CP, INTERNAL_IP6_ADDRESS).
	RequestVIP  bool
	RequestVIP6 bool
	// ModeConfigPush makes IKEv1 Mode Config push the configuration from the gateway
	// (SET/ACK) instead of the client pulling it (REQUEST/REPLY), strongSwan's pull = no.
	ModeConfigPush bool
	XAuth          *XAuthConfig
	// LocalPort and RemotePort are the UDP ports an initiator starts IKE on (swanctl.conf's
	// local_port and remote_port); 0 means 500. A node on a real socket against a real
	// peer sets them; on ports other than 500 every IKE message carries the non-ESP
	// marker (RFC 3948, Section 2.2) and NAT traversal does not move to 4500.
	LocalPort, RemotePort uint16
	// CACerts is the node's trust store: the CA certificates a peer's certificate must
	// chain to.
	CACerts []*x509.Certificate
	// NoSignatureAuth keeps IKEv2 from announcing RFC 7427 signature authentication
	// (SIGNATURE_HASH_ALGORITHMS), so that both sides sign with the classic AUTH methods
	// (strongswan.conf's charon.signature_authentication = no, per connection).
	NoSignatureAuth bool
	// Fragmentation offers IKEv2 fragmentation (RFC 7383); FragmentSize is the largest
	// IP datagram a fragment may fill (0 means 1280, strongSwan's default).
	Fragmentation bool
	FragmentSize  int
	// Limits are the node's defences against unauthenticated peers (strongswan.conf);
	// nil means DefaultLimits.
	Limits *Limits
}

// Matches reports whether the connection is for a peer at remote reached at local: each
// address list must hold the address, or be empty (any address).
func (c *Connection) Matches(local, remote netip.Addr) bool {
	return (len(c.LocalAddrs) == 0 || slices.Contains(c.LocalAddrs, local)) &&
		(len(c.RemoteAddrs) == 0 || slices.Contains(c.RemoteAddrs, remote))
}

// IKE's UDP ports: 500, and 4500 for NAT traversal (RFC 7296, Section 2.23; RFC 3948).
const (
	PortIKE  = 500
	PortNATT = 4500
)

// FloatPorts are the ends IKE moves to once a NAT is in the path (RFC 7296, Section
// 2.23; RFC 3947, Section 4): an end on port 500 moves to 4500, so that IKE and ESP in
// UDP share one NAT mapping. An end on any other port stays, as strongSwan's does: it
// frames every IKE message with the non-ESP marker already (RFC 3948, Section 2.2), and
// a real peer there listens on no port 4500. moved reports whether either end moved.
func FloatPorts(local, remote netip.AddrPort) (newLocal, newRemote netip.AddrPort, moved bool) {
	if local.Port() != PortIKE && remote.Port() != PortIKE {
		return local, remote, false
	}
	if local.Port() == PortIKE {
		local = netip.AddrPortFrom(local.Addr(), PortNATT)
	}
	if remote.Port() == PortIKE {
		remote = netip.AddrPortFrom(remote.Addr(), PortNATT)
	}
	return local, remote, true
}

// StayOnPorts says in the trace why IKE does not float: its ports carry the marker.
func StayOnPorts(local, remote netip.AddrPort) string {
	return fmt.Sprintf("UDP encapsulation from now on (a NAT is in the path, or encap asks for it): ports %d and %d carry the non-ESP marker already, so IKE stays there and ESP joins it",
		local.Port(), remote.Port())
}

// Ports are the UDP ports an initiator starts IKE on: LocalPort and RemotePort, 500
// where they are not set.
func (c *Connection) Ports() (local, remote uint16) {
	local, remote = c.LocalPort, c.RemotePort
	if local == 0 {
		local = PortIKE
	}
	if remote == 0 {
		remote = PortIKE
	}
	return local, remote
}

// AuthMethod is how one side authenticates (swanctl.conf's local.auth, remote.auth).
type AuthMethod string

// The authentication methods, in swanctl.conf's words.
const (
	AuthPSK         AuthMethod = "psk"
	AuthPubkey      AuthMethod = "pubkey"
	AuthEAPMD5      AuthMethod = "eap-md5"
	AuthEAPMSCHAPv2 AuthMethod = "eap-mschapv2"
)

// StartAction says what brings a Child SA up (swanctl.conf's start_action).
type StartAction string

// The start actions.
const (
	StartTrigger StartAction = "trigger" // traffic that matches its policy (an acquire)
	StartStart   StartAction = "start"   // the start of the run
	StartNone    StartAction = "none"    // only an explicit initiate
)

// AuthConfig is one side's authentication: method, identity and key material.
type AuthConfig struct {
	// Method is AuthPSK, AuthPubkey (a signature with a certificate's key), or, for
	// IKEv2, an EAP method: the client (the initiator) answers EAP, the server
	// authenticates itself with a certificate. "" is AuthPSK.
	Method AuthMethod
	ID     Identity
	// PSK is the pre-shared key this side uses; scenarios fill it from their secrets.
	PSK []byte
	// PSKFor, when set, finds the pre-shared key of a pair of identities, the local
	// one and the one the peer sends (an empty one before the peer has sent it): a
	// responder whose remote identity is %any looks the key up by the identity of each
	// initiator, as strongSwan does. It returns nil when no secret applies.
	PSKFor func(local, remote Identity) []byte
	// Certs is this side's certificate and any intermediate CA certificates it sends,
	// leaf first; Key is the private key of Certs[0]. Only the local side has them.
	Certs []*x509.Certificate
	Key   crypto.Signer
	// RSAPSS signs with RSASSA-PSS instead of PKCS#1 v1.5 (RFC 7427 only; swanctl's
	// auth = rsa/pss).
	RSAPSS bool
	// EAPID is the identity an EAP client gives (swanctl's eap_id; its IKE identity
	// when empty). EAPSecrets are EAP passwords by EAP identity: a client looks up its
	// own, a server those of its users.
	EAPID      string
	EAPSecrets map[string][]byte
}

// XAuthConfig holds IKEv1 XAUTH credentials (client side) or the user table (server side).
type XAuthConfig struct {
	User, Password string
	Users          map[string]string
}

// ChildConfig is one Child SA (IKEv1: one quick mode SA pair) of a connection.
//
// ESPProposals are the Child SA's proposals: the ESP ones, with AH ones (Protocol
// ProtoAH, a scenario's ah_proposals) before them. IKEv2 offers them all and installs
// the one chosen, as strongSwan does; IKEv1 with both kinds offers AH+ESP bundles, as a
// Cisco transform set "ah-sha-hmac esp-aes" does.
type ChildConfig struct {
	Name         string
	LocalTS      []TrafficSelector
	RemoteTS     []TrafficSelector
	ESPProposals []Proposal
	Transport    bool // transport mode instead of tunnel mode
	StartAction  StartAction
	RekeyTime    time.Duration
	LifeTime     time.Duration
	LifeBytes    uint64
	// RekeyBytes, LifePackets and RekeyPackets are the other volume lifetimes, as
	// swanctl.conf's rekey_bytes, life_packets and rekey_packets (0: none).
	RekeyBytes   uint64
	LifePackets  uint64
	RekeyPackets uint64
	// DPDAction is what follows when the peer stops answering (swanctl.conf's
	// dpd_action): clear, trap or restart; "" is clear. CloseAction is what follows
	// when the peer closes the Child SA or its IKE SA (close_action): none, trap or
	// start; "" is none.
	DPDAction   string
	CloseAction string
	ReqID       uint32 // assigned by the engine; names the policies of this child
}

// Identity is an IKE identity (ID payload type and value), e.g. FQDN gw-a.example.
type Identity struct {
	Type  uint8 // IKEv2 ID type: 1 IPV4_ADDR, 2 FQDN, 3 RFC822_ADDR, 5 IPV6_ADDR, 9 DER_ASN1_DN, 11 KEY_ID
	Value []byte
}

// ID types shared by IKEv1 (RFC 2407 4.6.2.1) and IKEv2 (RFC 7296 3.5) for the common cases.
const (
	IDIPv4Addr   uint8 = 1
	IDFQDN       uint8 = 2
	IDRFC822Addr uint8 = 3
	IDIPv6Addr   uint8 = 5
	IDDERASN1DN  uint8 = 9
	IDKeyID      uint8 = 11
)

// ParseIdentity reads an identity in strongSwan's notation: an IP address, an email
// address (user@host), or any other string as an FQDN.
func ParseIdentity(s string) (Identity, error) {
	if s == "" {
		return Identity{}, fmt.Errorf("ike: empty identity")
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Is4() {
			b := a.As4()
			return Identity{Type: IDIPv4Addr, Value: b[:]}, nil
		}
		b := a.As16()
		return Identity{Type: IDIPv6Addr, Value: b[:]}, nil
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '@' && i > 0 {
			return Identity{Type: IDRFC822Addr, Value: []byte(s)}, nil
		}
	}
	return Identity{Type: IDFQDN, Value: []byte(s)}, nil
}

// String gives the identity back in strongSwan's notation.
func (id Identity) String() string {
	switch id.Type {
	case IDIPv4Addr, IDIPv6Addr:
		if a, ok := netip.AddrFromSlice(id.Value); ok {
			return a.String()
		}
	case IDFQDN, IDRFC822Addr:
		return string(id.Value)
	}
	return fmt.Sprintf("%x", id.Value)
}

// Equal reports whether two identities have the same type and value.
func (id Identity) Equal(o Identity) bool {
	return id.Type == o.Type && string(id.Value) == string(o.Value)
}

// TrafficSelector is an address range with an IP protocol and port range
// (RFC 7296, Section 3.13.1). Proto 0 and ports 0-65535 mean "any".
type TrafficSelector struct {
	Proto     uint8
	StartPort uint16
	EndPort   uint16
	Start     netip.Addr
	End       netip.Addr
}

// TSFromPrefix makes a selector covering a whole prefix, any protocol and port.
func TSFromPrefix(p netip.Prefix) TrafficSelector {
	p = p.Masked()
	return TrafficSelector{Start: p.Addr(), End: lastAddr(p), EndPort: 65535}
}

// lastAddr is the last address of a masked prefix: its host bits all ones.
func lastAddr(p netip.Prefix) netip.Addr {
	start := p.Addr()
	ones := func(b []byte) {
		bits := start.BitLen() - p.Bits()
		for i := len(b) - 1; i >= 0 && bits > 0; i-- {
			n := min(bits, 8)
			b[i] |= byte(1<<n - 1)
			bits -= n
		}
	}
	switch {
	case start.Is4():
		b := start.As4()
		ones(b[:])
		return netip.AddrFrom4(b)
	case start.Is6():
		b := start.As16()
		ones(b[:])
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

// Contains reports whether a packet with this protocol, address and port falls inside.
func (ts TrafficSelector) Contains(proto uint8, a netip.Addr, port uint16) bool {
	if ts.Proto != 0 && ts.Proto != proto {
		return false
	}
	if port < ts.StartPort || port > ts.EndPort {
		// ICMP and other port-less protocols carry port 0, which only "any" (0-65535) admits.
		return false
	}
	return a.Compare(ts.Start) >= 0 && a.Compare(ts.End) <= 0
}

// Narrow returns the intersection of two selectors, and whether it is non-empty.
func (ts TrafficSelector) Narrow(o TrafficSelector) (TrafficSelector, bool) {
	r := ts
	if ts.Proto == 0 {
		r.Proto = o.Proto
	} else if o.Proto != 0 && o.Proto != ts.Proto {
		return TrafficSelector{}, false
	}
	r.StartPort = max(ts.StartPort, o.StartPort)
	r.EndPort = min(ts.EndPort, o.EndPort)
	if r.StartPort > r.EndPort || ts.Start.Is4() != o.Start.Is4() {
		return TrafficSelector{}, false
	}
	if o.Start.Compare(r.Start) > 0 {
		r.Start = o.Start
	}
	if o.End.Compare(r.End) < 0 {
		r.End = o.End
	}
	if r.Start.Compare(r.End) > 0 {
		return TrafficSelector{}, false
	}
	return r, true
}

// String prints the selector as a prefix when it is one, else as a range.
func (ts TrafficSelector) String() string {
	b := make([]byte, 0, 48)
	switch p, ok := ts.prefix(); {
	case ok && p.IsValid():
		b = p.AppendTo(b)
	case ok:
		b = append(b, p.String()...)
	default:
		b = appendAddr(append(appendAddr(b, ts.Start), '-'), ts.End)
	}
	if ts.Proto != 0 {
		b = fmt.Appendf(b, "[%d", ts.Proto)
		if ts.StartPort != 0 || ts.EndPort != 65535 {
			if ts.StartPort == ts.EndPort {
				b = fmt.Appendf(b, "/%d", ts.StartPort)
			} else {
				b = fmt.Appendf(b, "/%d-%d", ts.StartPort, ts.EndPort)
			}
		}
		b = append(b, ']')
	}
	return string(b)
}

// appendAddr appends a's String.
func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, a.String()...)
	}
	return a.AppendTo(b)
}

// prefix is the prefix whose addresses the selector's range covers, if there is one.
func (ts TrafficSelector) prefix() (netip.Prefix, bool) {
	if ts.Start.IsValid() {
		// The range is a prefix when End is Start with the low bits set: Start and End
		// differ in a run of low bits, all zero in Start.
		if ts.Start.BitLen() != ts.End.BitLen() || ts.Start.Zone() != "" || ts.End.Zone() != "" {
			return netip.Prefix{}, false
		}
		a, b := ts.Start.As16(), ts.End.As16()
		host, low := 0, true
		for i := len(a) - 1; i >= 0; i-- {
			x := a[i] ^ b[i]
			switch {
			case a[i]&x != 0, !low && x != 0, x&(x+1) != 0:
				return netip.Prefix{}, false
			}
			host += bits.OnesCount8(x)
			low = x == 0xff
		}
		return netip.PrefixFrom(ts.Start, ts.Start.BitLen()-host), true
	}
	for bits := 0; bits <= ts.Start.BitLen(); bits++ {
		p := netip.PrefixFrom(ts.Start, bits)
		if q := TSFromPrefix(p); q.Start == ts.Start && q.End == ts.End {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// Limits are a responder's defences against peers that have not authenticated, the
// settings of strongswan.conf's charon section of the same names: how many IKE SAs may
// be half-open (IKE_SA_INIT answered, IKE_AUTH not completed) before the node demands a
// COOKIE (RFC 7296, Section 2.6) or ignores new IKE_SA_INIT requests. Zero turns a
// limit off. Limits belong to a node: every connection of a node carries the same
// (Connection.Limits), and nil means DefaultLimits.
type Limits struct {
	// CookieThreshold demands a COOKIE while this many IKE SAs are half-open.
	CookieThreshold int
	// CookieThresholdIP demands a COOKIE from an address while this many IKE SAs from
	// it are half-open.
	CookieThresholdIP int
	// BlockThreshold ignores IKE_SA_INIT from an address while this many IKE SAs from
	// it are half-open.
	BlockThreshold int
	// InitLimitHalfOpen ignores every IKE_SA_INIT while this many IKE SAs are
	// half-open.
	InitLimitHalfOpen int
}

// DefaultLimits are strongSwan's defaults: dos_protection = yes with cookie_threshold
// 30, cookie_threshold_ip 3 and block_threshold 5, and no init_limit_half_open.
func DefaultLimits() Limits {
	return Limits{CookieThreshold: 30, CookieThresholdIP: 3, BlockThreshold: 5}
}

// Normalized is l as strongSwan applies it: an address may always get a COOKIE before
// it is blocked, so block_threshold is raised above cookie_threshold_ip when it is not.
func (l Limits) Normalized() Limits {
	if l.CookieThresholdIP > 0 && l.BlockThreshold > 0 && l.BlockThreshold <= l.CookieThresholdIP {
		l.BlockThreshold = l.CookieThresholdIP + 1
	}
	return l
}
