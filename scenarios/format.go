package scenarios

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// File is a scenario file as written.
type File struct {
	Name        string                          `yaml:"name"`
	Description string                          `yaml:"description"`
	Hint        string                          `yaml:"hint"`     // a lab's nudge, shown on request
	Solution    string                          `yaml:"solution"` // a lab's answer, shown on request
	Seed        *uint64                         `yaml:"seed"`
	Duration    Duration                        `yaml:"duration"`
	Topology    Topology                        `yaml:"topology"`
	Connections map[string]map[string]*ConnSpec `yaml:"connections"`
	Secrets     []SecretSpec                    `yaml:"secrets"`
	Timeline    []Step                          `yaml:"timeline"`
	Faults      []FaultSpec                     `yaml:"faults"`
	Expect      []Expect                        `yaml:"expect"`
	// Groups are N similar nodes each (groups.go). Their members are in Topology.Nodes,
	// their connections, secrets and timeline steps in those sections, after the ones
	// written there.
	Groups []GroupSpec `yaml:"groups"`
}

// Topology is the network: nodes, the links between two of them, and the segments
// (LANs) that many share.
type Topology struct {
	Nodes    []NodeSpec    `yaml:"nodes"`
	Links    []LinkSpec    `yaml:"links"`
	Segments []SegmentSpec `yaml:"segments"`
}

// SegmentSpec is a shared segment, a switched LAN: its members (nodes, or groups for
// all their members) are on one subnet and reach each other directly, every datagram
// with the segment's impairments.
type SegmentSpec struct {
	Name string `yaml:"name"`
	// Prefix picks each member's interface: the one whose address lies in it (default:
	// the member's first interface that is on no link).
	Prefix    string   `yaml:"prefix"`
	Nodes     []string `yaml:"nodes"`
	LinkModel `yaml:",inline"`
}

// NodeSpec is one node.
type NodeSpec struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"` // host, gateway, router, nat
	// Address and Addresses are the node's interfaces, one entry each: an address with
	// its prefix length, or the two addresses of a dual-stack interface, one IPv4 and
	// one IPv6, separated by a space ("10.1.0.1/24 2001:db8:1::1/64").
	Address   string   `yaml:"address"`
	Addresses []string `yaml:"addresses"`
	Gateway   string   `yaml:"gateway"`
	NAT       *NATSpec `yaml:"nat"`
	CACerts   []string `yaml:"cacerts"` // the node's trust store: test PKI names or PEM files
	// Charon is the node's IKE daemon settings, as in strongswan.conf (charon.go).
	Charon *CharonSpec `yaml:"charon"`
	// Group is the group the node is a member of ("" for a node written out).
	Group string `yaml:"-"`
}

// Prefixes are the node's addresses with their prefix lengths (a bare address is a
// /32 or a /128), in the order written; one that does not parse is left out
// (validation reports it).
func (n *NodeSpec) Prefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, ifc := range n.Interfaces() {
		out = append(out, ifc...)
	}
	return out
}

// Interfaces are the node's interfaces in the order written, each with its addresses
// (two on a dual-stack interface); an address that does not parse is left out
// (validation reports it).
func (n *NodeSpec) Interfaces() [][]netip.Prefix {
	var out [][]netip.Prefix
	for _, entry := range append([]string{n.Address}, n.Addresses...) {
		var ifc []netip.Prefix
		for _, a := range strings.Fields(entry) {
			if p, err := parsePrefix(a); err == nil {
				ifc = append(ifc, p)
			}
		}
		if len(ifc) > 0 {
			out = append(out, ifc)
		}
	}
	return out
}

// Node returns the node of that name, or nil.
func (f *File) Node(name string) *NodeSpec {
	for i := range f.Topology.Nodes {
		if f.Topology.Nodes[i].Name == name {
			return &f.Topology.Nodes[i]
		}
	}
	return nil
}

// NATSpec configures a NAT node.
type NATSpec struct {
	Outside string   `yaml:"outside"` // the outside address (default: the last one)
	Timeout Duration `yaml:"timeout"` // idle mapping lifetime (default 60s)
}

// LinkSpec is one link and its impairments.
type LinkSpec struct {
	Between   []string `yaml:"between"`
	LinkModel `yaml:",inline"`
}

// LinkModel is what a link or a segment does to datagrams.
type LinkModel struct {
	Delay     Duration `yaml:"delay"`
	Jitter    Duration `yaml:"jitter"`
	Loss      Percent  `yaml:"loss"`
	Duplicate Percent  `yaml:"duplicate"`
	Reorder   Percent  `yaml:"reorder"`
	Corrupt   Percent  `yaml:"corrupt"`
	MTU       int      `yaml:"mtu"`
}

// ConnSpec is one IKE connection, as in swanctl.conf's connections section.
type ConnSpec struct {
	Version         int                   `yaml:"version"`
	LocalAddrs      []string              `yaml:"local_addrs"`
	RemoteAddrs     []string              `yaml:"remote_addrs"`
	Proposals       []string              `yaml:"proposals"`
	Local           AuthSpec              `yaml:"local"`
	Remote          AuthSpec              `yaml:"remote"`
	DPDDelay        Duration              `yaml:"dpd_delay"`
	DPDTimeout      Duration              `yaml:"dpd_timeout"` // IKEv1
	Unique          string                `yaml:"unique"`      // no (default), never, keep or replace
	ReauthTime      Duration              `yaml:"reauth_time"`
	RekeyTime       Duration              `yaml:"rekey_time"`
	LifeTime        Duration              `yaml:"life_time"`
	Encap           bool                  `yaml:"encap"`
	Aggressive      bool                  `yaml:"aggressive"`
	Childless       bool                  `yaml:"childless"`
	Keepalive       Duration              `yaml:"keepalive"`
	CookieThreshold int                   `yaml:"cookie_threshold"`
	Retransmit      *RetransmitSpec       `yaml:"retransmit"`
	Pools           []string              `yaml:"pools"`
	DNS             []string              `yaml:"dns"`  // DNS servers a gateway hands out by Mode Config / CP
	VIPs            []string              `yaml:"vips"` // 0.0.0.0: ask the peer for a virtual IP
	Pull            *bool                 `yaml:"pull"` // IKEv1 Mode Config: pull (default) or push (false)
	XAuth           *XAuthSpec            `yaml:"xauth"`
	Fragmentation   YesNo                 `yaml:"fragmentation"`            // IKEv2 fragmentation (RFC 7383)
	FragmentSize    int                   `yaml:"fragment_size"`            // largest fragment datagram (default 1280)
	SignatureAuth   *YesNo                `yaml:"signature_authentication"` // no: classic AUTH methods only
	Children        map[string]*ChildSpec `yaml:"children"`
}

// XAuthSpec is IKEv1 extended authentication: a client's user and password, or a
// gateway's table of users.
type XAuthSpec struct {
	User     string            `yaml:"user"`
	Password string            `yaml:"password"`
	Users    map[string]string `yaml:"users"`
}

// RetransmitSpec tunes retransmission: the first timeout, its growth factor, the tries.
type RetransmitSpec struct {
	Timeout Duration `yaml:"timeout"`
	Base    float64  `yaml:"base"`
	Tries   int      `yaml:"tries"`
}

// AuthSpec is one side's authentication round.
type AuthSpec struct {
	Auth  string   `yaml:"auth"` // psk, pubkey, rsa/pss, eap-md5, eap-mschapv2
	ID    string   `yaml:"id"`
	Certs []string `yaml:"certs"`  // local: this side's certificate (test PKI name or PEM file), then intermediates
	EAPID string   `yaml:"eap_id"` // local: the EAP identity of a client
}

// ChildSpec is one Child SA of a connection.
type ChildSpec struct {
	LocalTS      []string `yaml:"local_ts"`
	RemoteTS     []string `yaml:"remote_ts"`
	ESPProposals []string `yaml:"esp_proposals"`
	AHProposals  []string `yaml:"ah_proposals"` // RFC 4302; see ChildConfig.ESPProposals
	Mode         string   `yaml:"mode"`         // tunnel (default) or transport
	StartAction  string   `yaml:"start_action"` // trigger, start or none
	RekeyTime    Duration `yaml:"rekey_time"`
	LifeTime     Duration `yaml:"life_time"`
	LifeBytes    Bytes    `yaml:"life_bytes"` // volume lifetime, e.g. 4608000KB
	RekeyBytes   Bytes    `yaml:"rekey_bytes"`
	LifePackets  uint64   `yaml:"life_packets"`
	RekeyPackets uint64   `yaml:"rekey_packets"`
	DPDAction    string   `yaml:"dpd_action"`   // clear (default), trap or restart
	CloseAction  string   `yaml:"close_action"` // none (default), trap or start
}

// SecretSpec is a shared secret for a set of identities, as in swanctl.conf's secrets.
// Nodes limits it to some nodes (a lab can give one side a wrong key).
type SecretSpec struct {
	Type   string   `yaml:"type"` // ike (default), eap, or private (a private key file)
	IDs    []string `yaml:"ids"`
	Secret string   `yaml:"secret"`
	File   string   `yaml:"file"` // private: the PEM file of a private key
	Nodes  []string `yaml:"nodes"`
}

// Step is one timeline entry: exactly one action at a virtual time.
type Step struct {
	At       Duration  `yaml:"at"`
	Ping     *PingStep `yaml:"ping"`
	Initiate *ConnStep `yaml:"initiate"`
	Rekey    *ConnStep `yaml:"rekey"`
	Delete   *ConnStep `yaml:"delete"`
	Liveness *ConnStep `yaml:"liveness"`
	Link     *LinkStep `yaml:"link"`
	SetPSK   *PSKStep  `yaml:"set_psk"`
	Restart  *NodeStep `yaml:"restart"`
}

// PingStep sends ICMP echo requests.
type PingStep struct {
	From     string   `yaml:"from"`
	To       string   `yaml:"to"`
	Source   string   `yaml:"source"` // one of from's addresses (default: the interface's toward to)
	Count    int      `yaml:"count"`
	Interval Duration `yaml:"interval"`
}

// ConnStep names a connection (and optionally a child) on a node.
type ConnStep struct {
	Node       string `yaml:"node"`
	Connection string `yaml:"connection"`
	Child      string `yaml:"child"`
}

// LinkStep takes a link down or up.
type LinkStep struct {
	Between []string `yaml:"between"`
	State   string   `yaml:"state"` // down or up
}

// PSKStep changes the pre-shared key a node uses for a connection.
type PSKStep struct {
	Node       string `yaml:"node"`
	Connection string `yaml:"connection"`
	Secret     string `yaml:"secret"`
}

// NodeStep names a node.
type NodeStep struct {
	Node string `yaml:"node"`
}

// FaultSpec is one fault rule: exactly one of its actions.
type FaultSpec struct {
	Drop      *MatchSpec `yaml:"drop"`
	Duplicate *MatchSpec `yaml:"duplicate"`
	Delay     *MatchSpec `yaml:"delay"`
	Corrupt   *MatchSpec `yaml:"corrupt"`
}

// MatchSpec says which messages a fault hits.
type MatchSpec struct {
	Exchange string   `yaml:"exchange"`
	Proto    string   `yaml:"proto"`
	From     string   `yaml:"from"`
	Message  int      `yaml:"message"`  // the Nth matching message (1-based); 0 = every one
	Response *bool    `yaml:"response"` // only responses (true) or requests (false)
	Times    int      `yaml:"times"`
	By       Duration `yaml:"by"` // delay only
}

// Expect is one expectation with the sentence a student reads: exactly one check, or
// an order (before) among named checks.
type Expect struct {
	Says string `yaml:"says"`
	// Name lets before refer to this expectation.
	Name        string          `yaml:"name"`
	IKESA       *ExpectIKESA    `yaml:"ike_sa"`
	ChildSAs    *ExpectChildSAs `yaml:"child_sas"`
	Pings       *ExpectPings    `yaml:"pings"`
	Message     *ExpectMessage  `yaml:"message"`
	State       *ExpectState    `yaml:"state"`
	Dropped     *ExpectDropped  `yaml:"dropped"`
	NATDetected *ExpectNAT      `yaml:"nat_detected"`
	// Before names expectations that were first met in this order.
	Before []string `yaml:"before"`
}

// ExpectIKESA: an IKE SA between two nodes is established (count of them, rekeyed), or
// fails with a notify.
type ExpectIKESA struct {
	Between []string `yaml:"between"`
	State   string   `yaml:"state"`   // established (default) or failed
	Notify  string   `yaml:"notify"`  // with failed: the notify type that ends it, exactly
	Count   *int     `yaml:"count"`   // established: exactly this many IKE SAs between them
	Rekeyed *bool    `yaml:"rekeyed"` // established: one of them replaced another (true) or none did (false)
}

// ExpectChildSAs: how many Child SAs a node brought up (of one child, still up at the
// end).
type ExpectChildSAs struct {
	Node  string `yaml:"node"`
	Count *int   `yaml:"count"`
	Child string `yaml:"child"` // only Child SAs of this child (by name)
	Alive bool   `yaml:"alive"` // only those still up at the end of the run
}

// ExpectPings: how many pings from a node (to a destination) were answered.
type ExpectPings struct {
	From     string `yaml:"from"`
	To       string `yaml:"to"` // a node or an address: only pings to it
	Answered int    `yaml:"answered"`
	Of       int    `yaml:"of"`
}

// ExpectMessage: messages that match are present (at least, exactly or at most so many)
// or absent.
type ExpectMessage struct {
	Exchange string   `yaml:"exchange"`
	Proto    string   `yaml:"proto"`
	From     string   `yaml:"from"`
	Notify   string   `yaml:"notify"`
	Payloads []string `yaml:"payloads"` // every one of these payloads is in the message
	Purpose  string   `yaml:"purpose"`  // rekey Child SA, rekey IKE SA, delete, liveness, ...
	Encap    *bool    `yaml:"encap"`    // UDP-encapsulated (port 4500) or not
	SPI      string   `yaml:"spi"`      // an ESP SPI, or an IKE SA's SPI, in hex
	After    Duration `yaml:"after"`    // sent at or after this time
	Until    Duration `yaml:"until"`    // sent at or before this time
	Absent   bool     `yaml:"absent"`
	Count    *int     `yaml:"count"`   // at least this many (default 1); 0 means none
	Exactly  *int     `yaml:"exactly"` // exactly this many
	AtMost   *int     `yaml:"at_most"` // at most this many
}

// ExpectState: a node reaches a state (of one connection, of its IKE or Child SAs).
type ExpectState struct {
	Node       string `yaml:"node"`
	State      string `yaml:"state"`
	Connection string `yaml:"connection"`
	SA         string `yaml:"sa"` // ike or child
}

// ExpectDropped: a packet was dropped for a cause (or a reason), or none was.
type ExpectDropped struct {
	Node   string `yaml:"node"`
	Cause  string `yaml:"cause"`  // loss, fault, link_down, ... (the drop's cause)
	Reason string `yaml:"reason"` // a part of the drop's description
	Absent bool   `yaml:"absent"`
}

// ExpectNAT: NAT detection on a node found a NAT.
type ExpectNAT struct {
	Node string `yaml:"node"`
}

// Duration is a time span written as "20ms", "1.5s", "2m" or a number of seconds.
type Duration time.Duration

// UnmarshalYAML reads a duration.
func (d *Duration) UnmarshalYAML(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 {
			return fmt.Errorf("duration %q is negative", s)
		}
		*d = Duration(f * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (write it like 20ms, 1.5s or 2m)", s)
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// D is the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Percent is a probability written as "30%" or a fraction like 0.3.
type Percent float64

// UnmarshalYAML reads a probability.
func (p *Percent) UnmarshalYAML(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	pct := strings.HasSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return fmt.Errorf("%q is not a percentage (write it like 30%% or 0.3)", s)
	}
	if pct {
		f /= 100
	}
	if f < 0 || f > 1 {
		return fmt.Errorf("%q is not between 0%% and 100%%", s)
	}
	*p = Percent(f)
	return nil
}

// Bytes is a volume written as a number of bytes or with a unit: "4608000KB", "4.5GB".
// KB, MB and GB are 1024-based, as IKEv1's kilobyte lifetimes are.
type Bytes uint64

// UnmarshalYAML reads a volume.
func (v *Bytes) UnmarshalYAML(b []byte) error {
	s := strings.ToUpper(strings.Trim(strings.TrimSpace(string(b)), `"'`))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return fmt.Errorf("%q is not a volume (write it like 4608000KB or 1GB)", string(b))
	}
	*v = Bytes(f * mult)
	return nil
}
