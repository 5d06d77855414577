package ike

import (
	"io"
	"net/netip"
	"strconv"
	"time"
)

// The IKE engines know nothing of the simulator. They take datagrams in through
// Daemon.HandleDatagram and give them out through a Transport, read time from a Clock
// and randomness from an io.Reader, and report what they do to an Observer. The
// simulator implements all three; a real UDP socket and the wall clock can too.

// Env is what an engine is given to run in.
type Env struct {
	Transport Transport
	Clock     Clock
	Rand      io.Reader // every random byte: SPIs, nonces, IVs, DH private values
	Observer  Observer
}

// Transport sends one IKE datagram. Data is the IKE message without any non-ESP
// marker; the transport adds the marker on port 4500.
type Transport interface {
	Send(p Datagram)
	// SendKeepalive sends a NAT-keepalive (RFC 3948 2.3: one 0xFF byte on port 4500).
	SendKeepalive(local, remote netip.AddrPort)
}

// Datagram is one IKE message in flight, with what the sender knows about it.
type Datagram struct {
	Local, Remote netip.AddrPort
	Data          []byte
	Info          *MessageInfo
}

// MessageInfo describes an IKE message for the trace: it is filled in by the engine that
// built or received the message, which alone can decrypt it.
type MessageInfo struct {
	Version    int    // 1 or 2
	Exchange   string // "IKE_SA_INIT", "Main Mode", ...
	MessageID  uint32
	Response   bool
	Retransmit bool
	// MessageFacts are what the message says, as data: its payloads, notifies, SPIs
	// and the SAs it creates, rekeys or deletes.
	MessageFacts
	// Dissect returns the message's field tree as the sender (or receiver) could read
	// it, decrypted. It is called only when someone looks, so that a run that is never
	// inspected does not pay for dissecting every message.
	Dissect func() *Field
	Weak    []string
}

// MessageFacts are the facts of one IKE message that programs read from the trace.
// Summary is the RFC notation of the message for people ("HDR, SAi1, KEi, Ni"); every
// other field is data, never derived from it.
type MessageFacts struct {
	Summary string
	// SPIi and SPIr are the IKE header's SPIs (IKEv1: the initiator and responder
	// cookies).
	SPIi, SPIr uint64
	// Payloads names every payload in order, the inner payloads of an encrypted one
	// following it ("SK", "IDi", "AUTH", ...), in the engine's own notation.
	Payloads []string
	// Notifies names the notify types the message carries ("NO_PROPOSAL_CHOSEN").
	Notifies []string
	// Errors names those of Notifies that report an error: the types below 16384
	// (RFC 7296, Section 3.10.1; RFC 2408, Section 3.14.1).
	Errors []string
	// Group names the Diffie-Hellman group that an N(INVALID_KE_PAYLOAD) in the message
	// asks for ("ECP_256", RFC 7296, Section 1.2).
	Group string
	// Purpose says what the message is for, as the engine knows it.
	Purpose Purpose
	// Creates, Rekeys and Deletes are the SAs the message proposes or accepts, the SAs
	// it replaces (REKEY_SA, IKE SA rekey), and those it deletes.
	Creates, Rekeys, Deletes []SARef
}

// AddNotify records a notify payload the message carries: its type's name, among the
// errors too when it reports one.
func (f *MessageFacts) AddNotify(name string, isError bool) {
	f.Notifies = append(f.Notifies, name)
	if isError {
		f.Errors = append(f.Errors, name)
	}
}

// Purpose says what an IKE message is for ("rekey Child SA"), beyond its exchange.
type Purpose string

// The purposes the engines set. An exchange that does one thing only (IKE_SA_INIT,
// IKE_AUTH, Main Mode) has no purpose of its own.
const (
	PurposeCreateChild Purpose = "create Child SA"
	PurposeRekeyChild  Purpose = "rekey Child SA"
	PurposeRekeyIKE    Purpose = "rekey IKE SA"
	PurposeDelete      Purpose = "delete"
	PurposeLiveness    Purpose = "liveness"
	PurposeNotify      Purpose = "notify"
	PurposeConfig      Purpose = "configuration"
	PurposeXAuth       Purpose = "extended authentication"
)

// Purposes lists every purpose an engine sets.
var Purposes = []Purpose{PurposeCreateChild, PurposeRekeyChild, PurposeRekeyIKE, PurposeDelete, PurposeLiveness,
	PurposeNotify, PurposeConfig, PurposeXAuth}

// SARef names an SA by protocol and SPI (an IKE SA by its initiator SPI, or both).
type SARef struct {
	Protocol Protocol
	SPI      uint64
}

// SAType says whether an SA (or a state machine) belongs to the IKE SA (IKEv1: the
// ISAKMP SA) or to a Child SA (IKEv1: an IPsec SA and its quick mode).
type SAType string

// The two kinds of SA.
const (
	SATypeIKE   SAType = "ike"
	SATypeChild SAType = "child"
)

// StateChange is one state change of a state machine.
type StateChange struct {
	// Machine names the machine for people: "IKE SA site-to-site[1]"; Kind is the kind
	// of machine ("IKE SA", "CHILD_SA", "ISAKMP SA", "Quick Mode", "IPsec SA").
	Machine string
	Kind    string
	// Instance names this machine among those of its kind: "site-to-site[1]".
	Instance string
	Type     SAType
	Conn     string
	Child    string // Child SA machines
	From     string
	To       string
}

// FailReason classifies a failure that ends an exchange.
type FailReason string

// The reasons of a failure.
const (
	FailPeerNotify FailReason = "peer_notify" // the peer refused with an error notify
	FailRefused    FailReason = "refused"     // this side refused the peer's message (and said so)
	FailTimeout    FailReason = "timeout"     // no answer after every retransmission
	FailMalformed  FailReason = "malformed"   // a message lacks what it must carry
	FailConfig     FailReason = "config"      // the configuration does not allow it
	FailInternal   FailReason = "internal"    // a message could not be built or a key made
)

// Failure describes a failure that ends an exchange, for the trace.
type Failure struct {
	Conn   string // the connection, when one is known
	SA     string // the SA's name, "site-to-site[1]"
	Child  string // the Child SA, when the failure concerns one
	Notify string // the notify type sent or received, by name ("" when none)
	Reason FailReason
	Text   string // for people
	// Auth is the authentication value that did not verify, when the failure is one.
	Auth *AuthMismatch
}

// AuthMismatch is an authentication value that did not verify: the one the peer sent
// next to the one this side computed with its own key. Both are MACs over public
// octets; the key itself is never recorded.
type AuthMismatch struct {
	// Payload names what was compared: "AUTH" (IKEv2), "HASH_I" or "HASH_R" (IKEv1).
	Payload string
	// Method says which key this side computed its value with, in the scenario's words:
	// "psk" (the pre-shared key), or the EAP method whose MSK keyed an IKEv2 AUTH
	// ("eap-mschapv2").
	Method             string
	Received, Computed []byte
}

// NATInfo is what NAT detection found on an IKE SA.
type NATInfo struct {
	Conn   string
	Local  bool // this side is behind a NAT
	Remote bool // the peer is behind a NAT
	Text   string
}

// Clock is the engine's view of time. Timers fire on the caller's event loop: an
// engine never runs two callbacks at once.
type Clock interface {
	Now() time.Time
	// AfterFunc runs f after d. The name says what the timer is for, in words
	// ("retransmit IKE_SA_INIT request", "DPD").
	AfterFunc(d time.Duration, name string, f func()) Timer
}

// Timer is a pending Clock callback.
type Timer interface {
	// Stop cancels the timer; it reports whether the timer was still pending.
	Stop() bool
}

// Observer receives what an engine does, for the event bus.
type Observer interface {
	// Action is a step the node takes, in words a student understands.
	Action(text string)
	// State is a state change of a state machine (an IKE SA, a quick mode, ...).
	State(s StateChange)
	// Received reports an IKE datagram the engine accepted, with its dissection as the
	// receiver could read it; Dropped reports one it discarded and why.
	Received(p Datagram)
	Dropped(p Datagram, reason string)
	// IKESAUp and IKESADown report IKE SAs (with their keys, for key tables).
	IKESAUp(sa *IKESAInfo)
	IKESADown(sa *IKESAInfo, reason string)
	// ChildSAUp asks the host to install a Child SA pair and its policies; ChildSADown
	// to remove it.
	ChildSAUp(sa *ChildSAInfo)
	ChildSADown(sa *ChildSAInfo, reason string)
	// Error reports a failure that ends an exchange (a notify sent or received, a
	// timeout).
	Error(f Failure)
	// NATDetected reports that NAT detection found a NAT on the path.
	NATDetected(n NATInfo)
}

// Daemon is one node's IKE engine (IKEv1 or IKEv2).
type Daemon interface {
	// HandleDatagram processes one received IKE message (without a non-ESP marker).
	HandleDatagram(local, remote netip.AddrPort, data []byte)
	// Traps lists the Child SAs whose policies trigger IKE (start_action trigger).
	Traps() []Trap
	// Acquire starts negotiating the Child SA with this reqid, as a trap policy asked.
	Acquire(reqid uint32)
	// Initiate starts a connection, or a named child of an established one.
	Initiate(conn, child string) error
	// Rekey rekeys a child (or the IKE SA when child is "") of a connection.
	Rekey(conn, child string) error
	// Delete deletes a child (or the whole IKE SA when child is "").
	Delete(conn, child string) error
	// DeleteAll deletes every established IKE SA (IKEv1: ISAKMP SA, after its IPsec SAs)
	// of every connection, the newest and any older ones, and returns how many.
	DeleteAll() int
	// Liveness sends a liveness check (empty INFORMATIONAL / DPD R-U-THERE).
	Liveness(conn string) error
	// SetPSK changes the pre-shared key this node uses for a connection.
	SetPSK(conn string, psk []byte) error
	// Close stops all timers (the node is restarted or the run ends).
	Close()
}

// Trap is a policy that triggers IKE: traffic from LocalTS to RemoteTS with no SA.
type Trap struct {
	ReqID     uint32
	Conn      string
	Child     string
	LocalTS   []TrafficSelector
	RemoteTS  []TrafficSelector
	Transport bool
}

// IKESAInfo describes an IKE SA (IKEv2) or ISAKMP SA (IKEv1).
type IKESAInfo struct {
	Version   int
	Conn      string
	SPIi      uint64 // IKEv1: initiator cookie
	SPIr      uint64 // IKEv1: responder cookie
	Initiator bool
	Local     netip.AddrPort
	Remote    netip.AddrPort
	LocalID   Identity
	RemoteID  Identity
	Proposal  Proposal // the selected transforms
	// IKEv2 keys (RFC 7296 2.14); IKEv1 uses SKEYIDe / EncKey.
	SKd, SKai, SKar, SKei, SKer, SKpi, SKpr []byte
	EncKey                                  []byte // IKEv1: the encryption key (Wireshark's table)
	Established                             time.Time
	// RekeyOf is the initiator SPI of the IKE SA this one replaces (0: none).
	RekeyOf uint64
	// Instance names the SA among the node's IKE SAs, as its state changes do
	// (StateChange.Instance).
	Instance string
}

// ChildSAInfo describes an established Child SA pair (IKEv2) or IPsec SA pair (IKEv1
// quick mode): what the host must install in its SAD and SPD.
type ChildSAInfo struct {
	Conn, Child string
	ReqID       uint32
	Protocol    Protocol // ESP or AH
	Transport   bool
	// Bundle marks the AH SA pair of an IKEv1 AH+ESP bundle: it goes over the ESP SA
	// pair of the same ReqID, which the engine reports next (RFC 4301, Section 4.5).
	Bundle      bool
	Local       netip.AddrPort // outer addresses; port 4500 when Encap
	Remote      netip.AddrPort
	Encap       bool
	BehindNAT   bool   // IKE found a NAT between the peers (Encap is false for AH all the same)
	SPIIn       uint32 // the SPI the peer puts on packets to us
	SPIOut      uint32
	Proposal    Proposal // the selected ESP transforms
	EncrKeyIn   []byte
	IntegKeyIn  []byte
	EncrKeyOut  []byte
	IntegKeyOut []byte
	LocalTS     []TrafficSelector
	RemoteTS    []TrafficSelector
	LifeTime    time.Duration
	Established time.Time
	// Rekeyed names the SPI (inbound) of the SA this one replaces, if any.
	Rekeyed uint32
	// Instance names the SA among the node's Child SAs, as its state changes do.
	Instance string
	// KeepOldOutbound asks the host to go on sending on the replaced SA until it is
	// deleted: the responder of a rekey does, since the initiator may not have the new
	// inbound SA yet.
	KeepOldOutbound bool
	// TrapOnEnd asks the host to keep the child's policies, as a trap, when its last SA
	// goes: its dpd_action or close_action is trap, for which strongSwan installs a trap
	// policy. Without it (and without start_action trigger, Daemon.Traps) the policies go
	// with the SA.
	TrapOnEnd bool
	// RekeyBytes, LifeBytes, RekeyPackets and LifePackets are the volume lifetimes
	// (0: none): the host counts each direction's inner bytes and packets and calls
	// Expirer.Expire when one reaches a limit.
	RekeyBytes, LifeBytes, RekeyPackets, LifePackets uint64
	// NoOutbound asks the host to install the inbound SA only: the SA lost a rekey
	// collision and is deleted at once, so nothing is ever sent on it.
	NoOutbound bool
}

// Traffic is what one Child SA carried, as its host counted it: the inner bytes and
// packets each way, and when the last packet came in and went out (zero: none yet).
type Traffic struct {
	BytesIn, BytesOut     uint64
	PacketsIn, PacketsOut uint64
	LastIn, LastOut       time.Time
}

// TrafficHost is implemented by hosts that count the traffic of each Child SA, as a
// kernel does. Engines reach it through a type assertion on their Observer: dead peer
// detection counts ESP that came in as a sign of life, and NAT keep-alives wait for a
// pause in what goes out, as strongSwan asks the kernel for the SAs' use times.
type TrafficHost interface {
	// ChildSATraffic reports the traffic of the Child SA with these SPIs.
	ChildSATraffic(spiIn, spiOut uint32) Traffic
}

// Expirer is implemented by engines that enforce a Child SA's volume lifetimes
// (ChildSAInfo.RekeyBytes and the others): the host tells it when the SA with inbound
// SPI spiIn reaches its soft limit (rekey it) or its hard one (it is gone), as the
// kernel's expire messages tell strongSwan.
type Expirer interface {
	Expire(spiIn uint32, hard bool)
}

// AcquireHost is implemented by hosts that queue packets while IKE sets up the Child SA
// a policy asked for (Daemon.Acquire). Engines tell it through a type assertion on their
// Observer when that Child SA cannot be had, so that the packets are dropped, not kept.
type AcquireHost interface {
	AcquireFailed(reqid uint32, reason string)
}

// VirtualIPHost is implemented by hosts that take an inner (virtual) address a peer
// assigned: IKEv1 Mode Config, IKEv2 configuration payloads. Engines reach it through a
// type assertion on their Observer, so hosts without virtual IPs need not implement it.
type VirtualIPHost interface {
	// AssignVirtualIP makes a the host's inner address; the zero Addr takes it back.
	AssignVirtualIP(a netip.Addr)
}

// SAInstance names an IKE SA (IKEv1: ISAKMP SA) among a node's by its connection and
// serial number, "site-to-site[1]", or "#1" while a responder does not know the
// connection yet (c nil). Both engines name their SAs so in the trace.
func SAInstance(c *Connection, serial int) string {
	if c == nil {
		return "#" + strconv.Itoa(serial)
	}
	return c.Name + "[" + strconv.Itoa(serial) + "]"
}

// ConnName is the name of connection c, "" for none.
func ConnName(c *Connection) string {
	if c == nil {
		return ""
	}
	return c.Name
}
