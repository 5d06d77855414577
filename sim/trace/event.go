// Package trace is the record of an ikesim run: the typed events, their JSON Lines codec
// (specified by docs/trace.schema.json), the pcap and Wireshark key-table writers, and
// the Recorder that turns the observer calls of the protocol engines into events. The
// simulator (sim) and live mode (sim/live) record through it; renderers and the grader
// read it.
//
// Every fact a program reads from a trace is a typed field; the text of an event is for
// people only. trace imports ike and ipsec only (and the standard library), so that
// readers of a trace never pull in the simulator.
package trace

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
)

// Version is the version of the trace format this package writes; the first event of a
// trace carries it. Traces without one are version 1 (before typed facts).
const Version = 2

// ScenarioNode is the node of events that belong to the scenario rather than to one
// node: timeline steps, links going down, the failure of a timeline step.
const ScenarioNode = "scenario"

// Epoch is virtual time zero, as wall-clock time (pcap timestamps, certificate checks).
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Kind says what an Event records.
type Kind string

const (
	KindTopology Kind = "topology" // a node of the network: its kind, interfaces and links
	KindMessage  Kind = "message"  // a datagram put on a wire
	KindRecv     Kind = "recv"     // a datagram taken off a wire by the node at its end
	KindDrop     Kind = "drop"     // a datagram lost or discarded, with the reason
	KindAction   Kind = "action"   // a step a node takes, in words
	KindState    Kind = "state"    // a state machine changed state
	KindTimer    Kind = "timer"    // a timer started, fired or was cancelled
	KindSA       Kind = "sa"       // an IKE or Child SA came up or went down
	KindError    Kind = "error"    // an exchange failed
	KindInfo     Kind = "info"     // scenario bookkeeping: a timeline step, a link going down
)

// Seconds is virtual time; it is written to JSON as seconds.
type Seconds time.Duration

// MarshalJSON writes the time as a number of seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(s).Seconds(), 'f', -1, 64), nil
}

// UnmarshalJSON reads a number of seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("trace: time %s is not a number of seconds", b)
	}
	*s = Seconds(time.Duration(f * float64(time.Second)))
	return nil
}

// Duration converts back to a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) }

// String prints the time the way diagrams show it: seconds with millisecond precision.
func (s Seconds) String() string { return fmt.Sprintf("%.3fs", time.Duration(s).Seconds()) }

// Hex is a byte string written to JSON as hex.
type Hex []byte

// MarshalJSON writes the bytes as a hex string.
func (h Hex) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

// UnmarshalJSON reads a hex string.
func (h *Hex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("trace: bad hex bytes: %v", err)
	}
	*h = d
	return nil
}

// Event is one record of the trace. Which fields are set depends on Kind; every event
// has T, Kind and Node (ScenarioNode for the scenario's own events).
//
// The facts that only some kinds carry sit in groups behind pointers, so that the many
// events that use few fields stay small: Wire (message, recv, drop) and StateFacts
// (state, error). A group is nil on an event that has none of its facts. Its fields are
// promoted for the JSON codec, which writes them in place, as if they were the event's
// own, and leaves a nil group out; programs read them through the methods of the same
// names, which return the zero value for a nil group (a method shadows the promoted
// field, so that a read can never dereference a nil group), and write them through the
// group itself (Event.Wire, or WireOf to make it).
type Event struct {
	Seq  int     `json:"seq"`
	T    Seconds `json:"t"`
	Kind Kind    `json:"kind"`
	Node string  `json:"node"`
	// Version is the trace format's version, on the first event only.
	Version int `json:"version,omitempty"`

	// topology
	Topology *Topology `json:"topology,omitempty"`

	// message, recv, drop
	*Wire

	// action, drop, error, info: for people
	Text string `json:"text,omitempty"`

	// state, error
	*StateFacts

	// error
	Failure *Failure `json:"failure,omitempty"`

	// info: why an imported pair of gateway configurations did not come up
	Diagnosis *Diagnosis `json:"diagnosis,omitempty"`

	// timer
	Timer string   `json:"timer,omitempty"`
	Op    Op       `json:"op,omitempty"` // timer: start, fire, cancel; sa: up, down
	Due   *Seconds `json:"due,omitempty"`

	// sa
	SA *SARecord `json:"sa,omitempty"`

	// action: typed facts some actions carry
	Ping *PingRecord `json:"ping,omitempty"`
	NAT  *NATRecord  `json:"nat,omitempty"`

	Weak []string `json:"weak,omitempty"`
}

// Wire is what message, recv and drop events say of a datagram: where it went, what it
// is and, for IKE, what the engine read in it; on a drop, why it was lost.
type Wire struct {
	From       string     `json:"from,omitempty"` // node names at the two ends of the wire
	To         string     `json:"to,omitempty"`
	Src        string     `json:"src,omitempty"` // addr:port (or addr)
	Dst        string     `json:"dst,omitempty"`
	Proto      string     `json:"proto,omitempty"` // ikev1, ikev2, esp, ah, icmp, udp, ip, nat-keepalive
	Exchange   string     `json:"exchange,omitempty"`
	Summary    string     `json:"summary,omitempty"`
	MessageID  *uint32    `json:"msgid,omitempty"`
	Response   bool       `json:"response,omitempty"`
	Retransmit bool       `json:"retransmit,omitempty"`
	Forwarded  bool       `json:"forwarded,omitempty"` // message: passed on by a router, gateway or NAT, not made here
	Arrive     *Seconds   `json:"arrive,omitempty"`    // message: when it reaches the far end (absent when lost)
	Ref        int        `json:"ref,omitempty"`       // recv, drop: the seq of the message event
	Encap      bool       `json:"encap,omitempty"`     // message: UDP-encapsulated (IKE or ESP on port 4500, RFC 3948)
	SPI        string     `json:"spi,omitempty"`       // ESP message: the SPI, 8 hex digits
	Bytes      Hex        `json:"bytes,omitempty"`
	Dissection *ike.Field `json:"dissection,omitempty"`
	// IKE messages: what the engine read in them
	SPIi     string   `json:"spi_i,omitempty"` // 16 hex digits
	SPIr     string   `json:"spi_r,omitempty"`
	Payloads []string `json:"payloads,omitempty"`
	Notifies []string `json:"notifies,omitempty"`
	Errors   []string `json:"errors,omitempty"` // the notifies that report an error (types below 16384)
	Group    string   `json:"group,omitempty"`  // the Diffie-Hellman group an INVALID_KE_PAYLOAD asks for
	Purpose  string   `json:"purpose,omitempty"`
	Creates  []SARef  `json:"creates,omitempty"`
	Rekeys   []SARef  `json:"rekeys,omitempty"`
	Deletes  []SARef  `json:"deletes,omitempty"`

	// drop: why, as data
	Cause DropCause `json:"cause,omitempty"`
	// IPsec is what ESP or AH refused, on a drop with cause esp.
	IPsec *IPsecDrop `json:"ipsec,omitempty"`

	// lazy makes Dissection when it is first asked for (see Fields).
	lazy func() *ike.Field
}

// StateFacts is what a state event says of the state machine that changed state; an
// error event names its SA with SAType, Conn and Child.
type StateFacts struct {
	Machine     string     `json:"machine,omitempty"`      // state: for people, "IKE SA site-to-site[1]"
	MachineKind string     `json:"machine_kind,omitempty"` // state: IKE SA, CHILD_SA, ISAKMP SA, Quick Mode, IPsec SA
	Instance    string     `json:"instance,omitempty"`     // state: which machine of its kind, "site-to-site[1]"
	SAType      ike.SAType `json:"sa_type,omitempty"`      // state, error: ike or child
	Conn        string     `json:"conn,omitempty"`         // state, error: the connection
	Child       string     `json:"child,omitempty"`        // state, error: the Child SA
	FromState   string     `json:"from_state,omitempty"`
	ToState     string     `json:"to_state,omitempty"`
}

// WireOf returns the event's Wire, giving it one first if it has none: for writers.
func WireOf(e *Event) *Wire {
	if e.Wire == nil {
		e.Wire = &Wire{}
	}
	return e.Wire
}

// zeroWire and zeroState are what the readers of an event without the group read.
var (
	zeroWire  Wire
	zeroState StateFacts
)

func (e *Event) wire() *Wire {
	if e.Wire == nil {
		return &zeroWire
	}
	return e.Wire
}

func (e *Event) state() *StateFacts {
	if e.StateFacts == nil {
		return &zeroState
	}
	return e.StateFacts
}

// The readers of Wire's facts (zero without a Wire).

func (e *Event) From() string           { return e.wire().From }
func (e *Event) To() string             { return e.wire().To }
func (e *Event) Src() string            { return e.wire().Src }
func (e *Event) Dst() string            { return e.wire().Dst }
func (e *Event) Proto() string          { return e.wire().Proto }
func (e *Event) Exchange() string       { return e.wire().Exchange }
func (e *Event) Summary() string        { return e.wire().Summary }
func (e *Event) MessageID() *uint32     { return e.wire().MessageID }
func (e *Event) Response() bool         { return e.wire().Response }
func (e *Event) Retransmit() bool       { return e.wire().Retransmit }
func (e *Event) Forwarded() bool        { return e.wire().Forwarded }
func (e *Event) Arrive() *Seconds       { return e.wire().Arrive }
func (e *Event) Ref() int               { return e.wire().Ref }
func (e *Event) Encap() bool            { return e.wire().Encap }
func (e *Event) SPI() string            { return e.wire().SPI }
func (e *Event) Bytes() Hex             { return e.wire().Bytes }
func (e *Event) Dissection() *ike.Field { return e.wire().Dissection }
func (e *Event) SPIi() string           { return e.wire().SPIi }
func (e *Event) SPIr() string           { return e.wire().SPIr }
func (e *Event) Payloads() []string     { return e.wire().Payloads }
func (e *Event) Notifies() []string     { return e.wire().Notifies }
func (e *Event) Errors() []string       { return e.wire().Errors }
func (e *Event) Group() string          { return e.wire().Group }
func (e *Event) Purpose() string        { return e.wire().Purpose }
func (e *Event) Creates() []SARef       { return e.wire().Creates }
func (e *Event) Rekeys() []SARef        { return e.wire().Rekeys }
func (e *Event) Deletes() []SARef       { return e.wire().Deletes }
func (e *Event) Cause() DropCause       { return e.wire().Cause }
func (e *Event) IPsec() *IPsecDrop      { return e.wire().IPsec }

// The readers of StateFacts (zero without them).

func (e *Event) Machine() string     { return e.state().Machine }
func (e *Event) MachineKind() string { return e.state().MachineKind }
func (e *Event) Instance() string    { return e.state().Instance }
func (e *Event) SAType() ike.SAType  { return e.state().SAType }
func (e *Event) Conn() string        { return e.state().Conn }
func (e *Event) Child() string       { return e.state().Child }
func (e *Event) FromState() string   { return e.state().FromState }
func (e *Event) ToState() string     { return e.state().ToState }

// Fields returns the event's dissection, making it on first use.
func (e *Event) Fields() *ike.Field {
	w := e.Wire
	if w == nil {
		return nil
	}
	if w.Dissection == nil && w.lazy != nil {
		w.Dissection = w.lazy()
		w.lazy = nil
	}
	return w.Dissection
}

// SetDissect makes f the source of the event's dissection, called only when someone
// looks (Fields).
func (e *Event) SetDissect(f func() *ike.Field) { WireOf(e).lazy = f }

// Op says what happened to a timer or an SA.
type Op string

// The ops of timer and sa events.
const (
	OpStart  Op = "start"
	OpFire   Op = "fire"
	OpCancel Op = "cancel"
	OpUp     Op = "up"
	OpDown   Op = "down"
)

// Topology is one node of the network, on its topology event: the first events of a
// trace describe the network, node by node, in the order of the diagram's lanes, and a
// node that restarts is described again as it comes back.
type Topology struct {
	NodeKind string  `json:"node_kind"` // host, gateway, router, nat; peer: a real IKE peer (live)
	Ifaces   []Iface `json:"ifaces,omitempty"`
	// NAT is a NAT node's outside address: the address its mappings use.
	NAT string `json:"nat,omitempty"`
	// Conns are the node's IKE connections, by name.
	Conns []Conn `json:"conns,omitempty"`
	// Group is the group of similar nodes the node is a member of, if any: a renderer
	// can fold the group into one lane.
	Group string `json:"group,omitempty"`
	// Live is the UDP address a live node listens on, or a real peer's address.
	Live string `json:"live,omitempty"`
	// SPD is the node's Security Policy Database as the run starts: the policies of
	// its trap (start_action trigger) Child SAs.
	SPD []Policy `json:"spd,omitempty"`
}

// Conn is one IKE connection of a node, as configured.
type Conn struct {
	Name      string   `json:"name"`
	Remote    []string `json:"remote,omitempty"`    // the peer's addresses (remote_addrs)
	Proposals []string `json:"proposals,omitempty"` // the IKE proposals, "aes128-sha256-modp2048"
}

// Policy is one entry of a node's SPD (RFC 4301, Section 4.4.1).
type Policy struct {
	Name    string `json:"name"` // connection/child
	Dir     string `json:"dir"`  // out, in
	Src     string `json:"src"`  // an address, a range first-last, or any
	Dst     string `json:"dst"`
	Proto   uint8  `json:"proto,omitempty"` // 0: any
	SrcPort string `json:"src_port,omitempty"`
	DstPort string `json:"dst_port,omitempty"`
	Action  string `json:"action"` // protect, bypass, discard
	ReqID   uint32 `json:"reqid,omitempty"`
}

// Policies describes SPD entries for the trace.
func Policies(ps []*ipsec.Policy) []Policy {
	var out []Policy
	for _, p := range ps {
		tp := Policy{Name: p.Name, Dir: p.Direction.String(), Src: p.Selector.Src.String(), Dst: p.Selector.Dst.String(),
			Proto: p.Selector.Proto, Action: p.Action.String(), ReqID: p.Reqid}
		if !p.Selector.SrcPort.IsAny() {
			tp.SrcPort = p.Selector.SrcPort.String()
		}
		if !p.Selector.DstPort.IsAny() {
			tp.DstPort = p.Selector.DstPort.String()
		}
		out = append(out, tp)
	}
	return out
}

// Iface is one interface of a node, and the node at the other end of its link.
type Iface struct {
	Prefix string `json:"prefix"` // 10.1.0.1/24
	// Also is a dual-stack interface's address of the other family: 2001:db8:1::1/64.
	Also string `json:"also,omitempty"`
	Peer string `json:"peer,omitempty"` // the node at the other end of its link
	// Segment is the shared segment (LAN) the interface is on, instead of a link.
	Segment string `json:"segment,omitempty"`
	// Link is the impairments of its link, on the link's first end only, or of its
	// segment, on the segment's first member only.
	Link *Link `json:"link,omitempty"`
}

// Link is what a link does to datagrams.
type Link struct {
	Delay     Seconds `json:"delay,omitempty"`
	Jitter    Seconds `json:"jitter,omitempty"`
	Loss      float64 `json:"loss,omitempty"`
	Duplicate float64 `json:"duplicate,omitempty"`
	Reorder   float64 `json:"reorder,omitempty"`
	Corrupt   float64 `json:"corrupt,omitempty"`
	MTU       int     `json:"mtu,omitempty"`
}

// SARef names an SA that a message creates, rekeys or deletes.
type SARef struct {
	Proto string `json:"proto"` // ike, esp, ah
	SPI   string `json:"spi"`   // hex: 16 digits for IKE, 8 for ESP and AH
}

// Failure is an error event's facts.
type Failure struct {
	SA     string         `json:"sa,omitempty"` // the SA's name, "site-to-site[1]"
	Notify string         `json:"notify,omitempty"`
	Reason ike.FailReason `json:"reason"`
	// Auth is the authentication value that did not verify, when that is the failure.
	Auth *AuthRecord `json:"auth,omitempty"`
}

// AuthRecord is an authentication value that did not verify: the one the peer sent
// next to the one this node computed with its own key (never the key itself).
type AuthRecord struct {
	Payload  string `json:"payload"` // AUTH (IKEv2), HASH_I or HASH_R (IKEv1)
	Method   string `json:"method"`  // the key it was computed with: psk, or the EAP method whose MSK keyed AUTH
	Received Hex    `json:"received"`
	Computed Hex    `json:"computed"`
}

// Diagnosis is why two imported gateway configurations did not come up together: the
// option they disagree on and where each side sets it (docs/configs.md).
type Diagnosis struct {
	Stage  ike.SAType `json:"stage"`            // the SA that failed: ike (the IKE or ISAKMP SA) or child (the traffic)
	Option string     `json:"option,omitempty"` // the option, in swanctl.conf's words (proposals, esp_proposals, id, secret, ...); none when the configurations agree
	Reason string     `json:"reason"`           // in short: "no common DH group"
	Sides  []ConfRef  `json:"sides"`            // the initiator's side first
}

// ConfRef is one side of a diagnosis: a node's connection and the configuration line
// that sets the option.
type ConfRef struct {
	Node string `json:"node"`
	Conn string `json:"conn"`
	File string `json:"file,omitempty"` // none when the option is a default
	Line int    `json:"line,omitempty"`
}

// PingRecord is a ping's outcome on the action that reports it.
type PingRecord struct {
	Op       PingOp `json:"op"`
	Dst      string `json:"dst"`
	ID       uint16 `json:"id"`
	Seq      uint16 `json:"seq"`
	Count    int    `json:"count"`              // echo requests in this ping
	Answered int    `json:"answered,omitempty"` // replies so far
}

// PingOp is what happened to one echo request.
type PingOp string

// The ping ops.
const (
	PingRequest   PingOp = "request"   // an echo request was sent
	PingReply     PingOp = "reply"     // its first echo reply came back
	PingDuplicate PingOp = "duplicate" // another reply to the same request came back
)

// NATRecord is what NAT detection found, on the action that reports it.
type NATRecord struct {
	Conn   string `json:"conn,omitempty"`
	Local  bool   `json:"local,omitempty"`  // this node is behind a NAT
	Remote bool   `json:"remote,omitempty"` // its peer is
}

// DropCause says, as data, why a datagram was lost or discarded.
type DropCause string

// The causes of drops.
const (
	DropLoss      DropCause = "loss"        // the link lost it (its loss probability)
	DropFault     DropCause = "fault"       // a fault rule of the scenario dropped it
	DropLinkDown  DropCause = "link_down"   // the link is down
	DropNodeDown  DropCause = "node_down"   // the node is down (restarting)
	DropMTU       DropCause = "mtu"         // larger than the link's MTU
	DropNoRoute   DropCause = "no_route"    // no route to the destination
	DropTTL       DropCause = "ttl"         // TTL expired
	DropPolicy    DropCause = "policy"      // a discard policy, or no policy protects it (live)
	DropNoSA      DropCause = "no_sa"       // the acquire for its SA failed
	DropQueueFull DropCause = "queue_full"  // the acquire queue is full
	DropSelectors DropCause = "selectors"   // outside the selectors of its Child SA: queued for it, or decrypted from it
	DropESP       DropCause = "esp"         // ESP refused it: unknown SPI, replay, integrity, ...
	DropMalformed DropCause = "malformed"   // not a well-formed packet
	DropNotForUs  DropCause = "not_for_us"  // not addressed to this node, which does not forward
	DropUnreach   DropCause = "unreachable" // no one listens on that port or protocol
	DropNAT       DropCause = "nat"         // a NAT has no mapping for it or cannot translate it
	DropIKE       DropCause = "ike"         // the IKE daemon discarded it
	DropNoDaemon  DropCause = "no_daemon"   // the node runs no IKE daemon
	DropSend      DropCause = "send"        // live: the socket would not send it
	DropOther     DropCause = "other"
)

// IPsecDrop is why inbound ESP or AH processing refused a packet (RFC 4303, Section
// 3.4; RFC 4302, Section 3.4).
type IPsecDrop struct {
	Proto  string `json:"proto"`  // esp or ah: the outer IPsec header
	Reason string `json:"reason"` // "ICV mismatch", "replayed sequence number", "unknown SPI", ...
	SPI    string `json:"spi,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
	// AddressChanged: AH's ICV failed and an outer address it covers was not the
	// sender's, rewritten on the way (by the NAT that IKE found, or seen to differ from
	// the SA's).
	AddressChanged bool `json:"address_changed,omitempty"`
}

// DropCauses lists every cause of a drop.
var DropCauses = []DropCause{DropLoss, DropFault, DropLinkDown, DropNodeDown, DropMTU, DropNoRoute, DropTTL, DropPolicy,
	DropNoSA, DropQueueFull, DropSelectors, DropESP, DropMalformed, DropNotForUs, DropUnreach, DropNAT, DropIKE,
	DropNoDaemon, DropSend, DropOther}

// SARecord describes an SA that came up or went down, with its keys, so that key tables
// can be written from a trace alone.
type SARecord struct {
	Type      ike.SAType `json:"type"` // "ike" or "child"
	Version   int        `json:"version,omitempty"`
	Conn      string     `json:"conn,omitempty"`
	Child     string     `json:"child,omitempty"`
	Peer      string     `json:"peer,omitempty"`
	Local     string     `json:"local,omitempty"`
	Remote    string     `json:"remote,omitempty"`
	Initiator bool       `json:"initiator,omitempty"`
	Proposal  string     `json:"proposal,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	// IKE SA
	SPIi string `json:"spi_i,omitempty"`
	SPIr string `json:"spi_r,omitempty"`
	SKei Hex    `json:"sk_ei,omitempty"`
	SKer Hex    `json:"sk_er,omitempty"`
	SKai Hex    `json:"sk_ai,omitempty"`
	SKar Hex    `json:"sk_ar,omitempty"`
	// EncKey is IKEv1's encryption key (Wireshark's ikev1_decryption_table).
	EncKey Hex `json:"enc_key,omitempty"`
	// Transforms of the selected proposal, by IANA ID.
	Encr        uint16 `json:"encr,omitempty"`
	EncrKeyBits int    `json:"encr_key_bits,omitempty"`
	Integ       uint16 `json:"integ,omitempty"`
	// Child SA
	Mode        string   `json:"mode,omitempty"`
	Encap       bool     `json:"encap,omitempty"`
	Protocol    string   `json:"protocol,omitempty"` // esp
	ReqID       uint32   `json:"reqid,omitempty"`
	SPIIn       string   `json:"spi_in,omitempty"`
	SPIOut      string   `json:"spi_out,omitempty"`
	EncrKeyIn   Hex      `json:"encr_key_in,omitempty"`
	IntegKeyIn  Hex      `json:"integ_key_in,omitempty"`
	EncrKeyOut  Hex      `json:"encr_key_out,omitempty"`
	IntegKeyOut Hex      `json:"integ_key_out,omitempty"`
	LocalTS     []string `json:"local_ts,omitempty"`
	RemoteTS    []string `json:"remote_ts,omitempty"`
	LifeTime    Seconds  `json:"life_time,omitempty"`
	// Rekeys names the SA this one replaces: the old inbound SPI of a Child SA, the
	// old initiator SPI of an IKE SA.
	Rekeys string `json:"rekeys,omitempty"`
	// Instance names the SA among the node's SAs of its kind, as its state events do.
	Instance string `json:"instance,omitempty"`
	// Policies are the SPD entries the host added for a Child SA that came up (none when
	// equal ones were there already, such as its trap's), or removed with one that went
	// down (its last SA, when no trap keeps them).
	Policies []Policy `json:"policies,omitempty"`
}

// Trace is the event bus and its record: every event, in order, or the newest of them
// where the oldest were let go (Forget).
type Trace struct {
	Events []*Event
	// Forgotten counts the events let go from the front of Events: Events[i] has Seq
	// Forgotten+i+1.
	Forgotten int
	subs      []func(*Event)
}

// Forget lets the n oldest events go (all of them when n is larger); the numbering of
// the events to come goes on.
func (t *Trace) Forget(n int) {
	n = min(n, len(t.Events))
	t.Forgotten += n
	t.Events = append(make([]*Event, 0, len(t.Events)-n), t.Events[n:]...) // a new array frees the old events
}

// reword, when set, rewrites every narration string as events are emitted (SetReword).
var reword func(string) string

// SetReword makes every trace reword its narration (text, summary, machine, timer and SA
// reason) with f until restore is called. It is a test hook: a test that rewords every
// sentence and gets the same grades proves that no program reads narration.
func SetReword(f func(string) string) (restore func()) {
	old := reword
	reword = f
	return func() { reword = old }
}

// Emit numbers the event, records it and hands it to every subscriber. The first event
// carries the format's Version; an event without a node belongs to the scenario.
func (t *Trace) Emit(e *Event) {
	if reword != nil {
		e.Text, e.Timer = reword(e.Text), reword(e.Timer)
		if e.Wire != nil {
			e.Wire.Summary = reword(e.Wire.Summary)
		}
		if e.StateFacts != nil {
			e.StateFacts.Machine = reword(e.StateFacts.Machine)
		}
		if e.SA != nil {
			e.SA.Reason = reword(e.SA.Reason)
		}
	}
	e.Seq = t.Forgotten + len(t.Events) + 1
	if e.Seq == 1 {
		e.Version = Version
	}
	if e.Node == "" {
		e.Node = ScenarioNode
	}
	t.Events = append(t.Events, e)
	for _, f := range t.subs {
		f(e)
	}
}

// Subscribe calls f for every event emitted from now on.
func (t *Trace) Subscribe(f func(*Event)) { t.subs = append(t.subs, f) }

// WriteJSON writes the trace as JSON Lines, one event per line. A dissection made for
// the output is not kept on its event, so that writing a large trace takes no more
// memory than the trace.
func (t *Trace) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	var c Event
	var cw Wire
	for _, e := range t.Events {
		out := e
		if w := e.Wire; w != nil && w.Dissection == nil && w.lazy != nil {
			c, cw = *e, *w
			cw.Dissection = w.lazy()
			c.Wire = &cw
			out = &c
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadJSON reads a trace written by WriteJSON. A bad line is an error naming it.
func ReadJSON(r io.Reader) (*Trace, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	t := &Trace{}
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("trace: line %d: %v", line, err)
		}
		if e.Kind == "" {
			return nil, fmt.Errorf("trace: line %d: event has no kind", line)
		}
		t.Events = append(t.Events, &e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trace: reading: %v", err)
	}
	if len(t.Events) == 0 {
		return nil, fmt.Errorf("trace: the trace is empty")
	}
	return t, nil
}
