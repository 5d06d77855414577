package ikev2

import (
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/daemon"
)

// saState is the state of an IKE SA, named as strongSwan names them.
type saState int

const (
	stateCreated saState = iota
	stateConnecting
	stateEstablished
	stateRekeying
	stateRekeyed
	stateDeleting
	stateDestroyed
)

var saStateNames = [...]string{"CREATED", "CONNECTING", "ESTABLISHED", "REKEYING", "REKEYED", "DELETING", "DESTROYED"}

func (s saState) String() string { return saStateNames[s] }

// StateNames are the states of IKE SAs and Child SAs, as strongSwan names them.
var StateNames = append(saStateNames[:], "INSTALLING", "INSTALLED")

// ikeSA is one IKE SA and everything it owns.
type ikeSA struct {
	d         *Daemon
	conn      *ike.Connection
	serial    int
	initiator bool // this side is the original initiator
	spiI      uint64
	spiR      uint64
	local     netip.AddrPort
	remote    netip.AddrPort
	state     saState
	// halfOpen marks a responder's SA counted in Daemon.halfOpen, from halfOpenAddr.
	halfOpen     bool
	halfOpenAddr netip.Addr

	// Negotiated transforms.
	proposal ike.Proposal
	encr     *ike.EncrAlg
	encrBits int
	integ    *ike.IntegAlg
	prf      *ike.PRFAlg
	dh       *ike.DHGroup
	keys     ike.IKEKeys

	// IKE_SA_INIT material, kept for AUTH (RFC 7296 2.15).
	ni, nr      []byte
	dhPriv      ike.DHPrivate
	initRequest []byte // RealMessage1
	initReply   []byte // RealMessage2
	cookie      []byte
	keGroup     uint16 // the group the initiator's KE uses
	keGroupOf   uint16 // the group dhPriv belongs to
	initTries   int

	// NAT traversal (RFC 7296 2.23).
	natLocal  bool // this side is behind a NAT
	natRemote bool // the peer is behind a NAT

	// Message IDs and the window of one outstanding request (RFC 7296 2.3).
	nextRequestID uint32 // ID of the next request this side sends
	nextPeerID    uint32 // ID of the next request expected from the peer
	outstanding   *request
	waiting       []func()
	lastReply     []byte // the last response sent, for retransmitted requests
	lastReplyID   uint32
	lastReplyInfo *ike.MessageInfo
	// lastRequest is the SHA-256 of the request lastReply answers (of its first
	// fragment when it came in fragments): only these very bytes are a retransmission.
	lastRequest [sha256.Size]byte
	// replyLocal and replyRemote are where the request being answered came in: the
	// response goes back there (RFC 7296, Section 2.11).
	replyLocal, replyRemote netip.AddrPort
	// initHash keys a responder's SA in Daemon.initHashes: its IKE_SA_INIT request.
	initHash initKey
	// initRejected says why the last IKE_SA_INIT response was not taken, while an
	// initiator keeps waiting for a valid one (RFC 7296, Section 2.21.1), and
	// initRejectedNotify is the last error notify such a response carried.
	initRejected       string
	initRejectedNotify NotifyType

	authChild *ike.ChildConfig // the child negotiated in IKE_AUTH, until it is up

	ownVIP  netip.Addr // the virtual IP the responder assigned to this side
	peerVIP netip.Addr // the virtual IP this side leased to the peer

	children        []*childSA
	pendingChildren []*ike.ChildConfig

	timers  daemon.Timers
	lastIn  time.Time
	lastOut time.Time
	rekeyed *ikeSA // the SA that replaced this one
	// passive is the IKE SA the peer's rekey made while this side's own rekey was under
	// way: a collision, settled by our response (RFC 7296, Section 2.8.2).
	passive *ikeSA
	// reauthOf is the IKE SA this one reauthenticates: it is deleted once this one and
	// its Child SAs are up.
	reauthOf *ikeSA
	// unknownDeletes are the last outbound SPIs the peer deleted while unknown here,
	// during a rekey of ours (rememberUnknownDelete).
	unknownDeletes []uint32
	failed         string

	ext ikeSAExt // certificates, EAP and fragmentation (auth.go, eap.go, frag.go)
}

// request is a request this side sent and the handler of its response.
type request struct {
	exchange ExchangeType
	id       uint32
	raw      []byte
	info     *ike.MessageInfo
	tries    int
	timer    ike.Timer
	onReply  func(m *Message, inner []Payload)
	// childTask marks a request that creates, rekeys or deletes a Child SA: while one is
	// under way the peer's IKE SA rekey gets TEMPORARY_FAILURE (strongSwan's ike_rekey).
	childTask bool
}

func (d *Daemon) newSA(c *ike.Connection, initiator bool, local, remote netip.AddrPort) *ikeSA {
	d.serial++
	sa := &ikeSA{d: d, conn: c, serial: d.serial, initiator: initiator, local: local, remote: remote,
		timers: daemon.NewTimers(d.env.Clock)}
	return sa
}

func (sa *ikeSA) name() string { return "IKE SA " + sa.instance() }

// instance names the SA among the node's IKE SAs: "site-to-site[1]".
func (sa *ikeSA) instance() string { return ike.SAInstance(sa.conn, sa.serial) }

// connName is the name of the SA's connection ("" before a responder knows it).
func (sa *ikeSA) connName() string { return ike.ConnName(sa.conn) }

func (sa *ikeSA) setState(s saState) {
	if sa.state == s {
		return
	}
	sa.d.env.Observer.State(ike.StateChange{Machine: sa.name(), Kind: "IKE SA", Instance: sa.instance(), Type: ike.SATypeIKE, Conn: sa.connName(),
		From: sa.state.String(), To: s.String()})
	sa.state = s
}

// mySPI is the SPI this side chose: the key of d.sas.
func (sa *ikeSA) mySPI() uint64 {
	if sa.initiator {
		return sa.spiI
	}
	return sa.spiR
}

// skOut and skIn are the SK payload keys for messages this side sends and receives.
func (sa *ikeSA) skOut() *SKCrypto { return sa.sk(sa.initiator) }
func (sa *ikeSA) skIn() *SKCrypto  { return sa.sk(!sa.initiator) }

// sk returns the keys of messages sent by the original initiator (fromInitiator) or
// by the original responder.
func (sa *ikeSA) sk(fromInitiator bool) *SKCrypto {
	if sa.encr == nil || sa.keys.SKei == nil {
		return nil
	}
	c := &SKCrypto{Encr: sa.encr, EncrKeyBits: sa.encrBits, Integ: sa.integ}
	if fromInitiator {
		c.EncrKey, c.IntegKey = sa.keys.SKei, sa.keys.SKai
	} else {
		c.EncrKey, c.IntegKey = sa.keys.SKer, sa.keys.SKar
	}
	return c
}

func (sa *ikeSA) header(ex ExchangeType, id uint32, response bool) Header {
	h := Header{SPIi: sa.spiI, SPIr: sa.spiR, Exchange: ex, MessageID: id}
	if sa.initiator {
		h.Flags |= FlagInitiator
	}
	if response {
		h.Flags |= FlagResponse
	}
	return h
}

// build marshals a message (encrypting an *Encrypted payload with this side's keys) and
// describes it for the trace.
func (sa *ikeSA) build(m *Message) ([]byte, *ike.MessageInfo, error) {
	sk := sa.skOut()
	raw, err := m.Marshal(sk, sa.d.env.Rand)
	if err != nil {
		return nil, nil, err
	}
	return raw, sa.describe(m, raw, sk), nil
}

func (sa *ikeSA) describe(m *Message, raw []byte, sk *SKCrypto) *ike.MessageInfo {
	info := &ike.MessageInfo{Version: 2, Exchange: m.Header.Exchange.String(), MessageID: m.Header.MessageID,
		Response: m.Header.Flags&FlagResponse != 0, MessageFacts: Describe(m, !m.IsResponse()),
		Dissect: sa.d.lazyDissect(raw, sk)}
	info.Weak = weakIn(m)
	return info
}

// weakIn lists the weak algorithms offered or chosen in a message's SA payloads.
func weakIn(m *Message) []string {
	var weak []string
	seen := map[string]bool{}
	var visit func(ps []Payload)
	visit = func(ps []Payload) {
		for _, p := range ps {
			switch p := p.(type) {
			case *SA:
				for _, prop := range p.IKEProposals() {
					for _, w := range prop.Weak() {
						if !seen[w] {
							seen[w] = true
							weak = append(weak, w)
						}
					}
				}
			case *KE:
				if g := ike.DH(p.Group); g != nil && g.Weak && !seen[g.Name] {
					seen[g.Name] = true
					weak = append(weak, g.Name)
				}
			case *Encrypted:
				visit(p.Inner)
			}
		}
	}
	visit(m.Payloads)
	return weak
}

func (sa *ikeSA) send(raw []byte, info *ike.MessageInfo) { sa.sendTo(sa.local, sa.remote, raw, info) }

// sendTo sends a message between the given ends: a response goes back where its request
// came from.
func (sa *ikeSA) sendTo(local, remote netip.AddrPort, raw []byte, info *ike.MessageInfo) {
	sa.lastOut = sa.d.env.Clock.Now()
	if sa.sendFragments(local, remote, raw, info) { // RFC 7383 hook (frag.go): too large, sent as SKF fragments
		return
	}
	sa.d.env.Transport.Send(ike.Datagram{Local: local, Remote: remote, Data: raw, Info: info})
}

// queueRequest runs start when the window of one outstanding request is free.
func (sa *ikeSA) queueRequest(start func()) {
	if sa.outstanding != nil || sa.state == stateConnecting {
		sa.waiting = append(sa.waiting, start)
		return
	}
	start()
}

// nextQueued starts the next waiting request, if the window is free.
func (sa *ikeSA) nextQueued() {
	for sa.outstanding == nil && len(sa.waiting) > 0 && sa.state != stateDestroyed {
		f := sa.waiting[0]
		sa.waiting = sa.waiting[1:]
		f()
	}
}

// sendRequest sends a request with the next message ID and arms its retransmission.
func (sa *ikeSA) sendRequest(ex ExchangeType, payloads []Payload, onReply func(*Message, []Payload)) {
	m := &Message{Header: sa.header(ex, sa.nextRequestID, false), Payloads: payloads}
	if ex != IKE_SA_INIT {
		m.Payloads = []Payload{&Encrypted{Inner: append([]Payload{}, payloads...)}} // non-nil: an empty SK shows as "SK {}"
	}
	raw, info, err := sa.build(m)
	if err != nil {
		sa.d.failure(sa, "", 0, ike.FailInternal, "%s: cannot build %s request: %v", sa.name(), ex, err)
		return
	}
	r := &request{exchange: ex, id: sa.nextRequestID, raw: raw, info: info, onReply: onReply}
	sa.outstanding = r
	sa.send(raw, info)
	sa.armRetransmit(r)
}

// markChildTask marks the request just sent as a Child SA task (request.childTask).
func (sa *ikeSA) markChildTask() {
	if sa.outstanding != nil {
		sa.outstanding.childTask = true
	}
}

func (sa *ikeSA) armRetransmit(r *request) {
	d, tries := daemon.Backoff(sa.conn, r.tries)
	r.timer = sa.d.env.Clock.AfterFunc(d, "retransmit "+r.exchange.String()+" request "+strconv.FormatUint(uint64(r.id), 10), func() {
		if sa.outstanding != r {
			return
		}
		r.tries++
		if r.tries >= tries {
			if r.exchange == IKE_SA_INIT && sa.initRejected != "" {
				sa.d.failure(sa, "", sa.initRejectedNotify, ike.FailTimeout, "%s: no usable response to %s request %d after %d tries (the last: %s): giving up",
					sa.name(), r.exchange, r.id, tries, sa.initRejected)
			} else {
				sa.d.failure(sa, "", 0, ike.FailTimeout, "%s: no response to %s request %d after %d tries: giving up, peer is dead",
					sa.name(), r.exchange, r.id, tries)
			}
			sa.outstanding = nil
			established := sa.state == stateEstablished || sa.state == stateRekeying
			children := sa.childConfigs()
			sa.destroy("peer did not answer")
			if established {
				sa.d.afterDeath(sa.conn, children)
			}
			return
		}
		what := "No response"
		if r.exchange == IKE_SA_INIT && sa.initRejected != "" {
			what = "No usable response"
		}
		sa.d.action("%s to %s request %d within %s: retransmit it (try %d of %d)", what, r.exchange, r.id,
			d.Round(time.Millisecond), r.tries+1, tries)
		info := *r.info
		info.Retransmit = true
		sa.send(r.raw, &info)
		sa.armRetransmit(r)
	})
}

// sendResponse sends the response to the peer's current request and caches it.
func (sa *ikeSA) sendResponse(ex ExchangeType, id uint32, payloads []Payload) {
	m := &Message{Header: sa.header(ex, id, true), Payloads: payloads}
	if ex != IKE_SA_INIT {
		m.Payloads = []Payload{&Encrypted{Inner: append([]Payload{}, payloads...)}} // non-nil: an empty SK shows as "SK {}"
	}
	raw, info, err := sa.build(m)
	if err != nil {
		sa.d.failure(sa, "", 0, ike.FailInternal, "%s: cannot build %s response: %v", sa.name(), ex, err)
		return
	}
	sa.lastReply, sa.lastReplyID, sa.lastReplyInfo = raw, id, info
	sa.sendTo(sa.replyLocal, sa.replyRemote, raw, info)
}

// handle processes a message that belongs to this SA (Daemon.HandleDatagram takes
// IKE_SA_INIT requests). Nothing changes before the message has passed its integrity
// check, except that a byte-for-byte retransmission of the last request gets the cached
// response again (RFC 7296, Sections 2.1 and 2.21.2):
//  1. an IKE_SA_INIT response goes to onInitResponse: it is not protected;
//  2. a response must answer the outstanding request; a request must carry the next
//     message ID, or be the very bytes of the last one;
//  3. the SK payload (or an SKF fragment) must verify; what does not, or has none, is
//     dropped silently;
//  4. the SA's state must admit the request (admit);
//  5. only then the peer's address may move (updateHosts), the window advances and the
//     exchange's handler runs.
func (sa *ikeSA) handle(local, remote netip.AddrPort, m *Message) {
	h := &m.Header
	obs := sa.d.env.Observer
	dg := ike.Datagram{Local: local, Remote: remote, Data: m.Raw}
	isResp := h.Flags&FlagResponse != 0
	sk := sa.skIn()
	infoIn := &ike.MessageInfo{Version: 2, Exchange: h.Exchange.String(), MessageID: h.MessageID, Response: isResp}
	drop := func(why string) {
		if infoIn.Dissect == nil {
			infoIn.Dissect = sa.d.lazyDissect(m.Raw, sk)
		}
		dg.Info = infoIn
		obs.Dropped(dg, why)
	}
	if h.Exchange == IKE_SA_INIT {
		if !isResp {
			drop("IKE_SA_INIT request with the SPIs of an existing IKE SA")
			return
		}
		sa.onInitResponse(dg, infoIn, m)
		return
	}
	if isResp {
		r := sa.outstanding
		if r == nil || r.id != h.MessageID || r.exchange != h.Exchange {
			drop(fmt.Sprintf("unexpected %s response with message ID %d", h.Exchange, h.MessageID))
			return
		}
	} else {
		switch {
		case h.MessageID+1 == sa.nextPeerID && sa.lastReply != nil && sha256.Sum256(m.Raw) == sa.lastRequest:
			sa.resendReply(dg, infoIn, m)
			return
		case h.MessageID != sa.nextPeerID:
			drop(fmt.Sprintf("request message ID %d, expected %d", h.MessageID, sa.nextPeerID))
			return
		}
	}
	if sk == nil {
		dg.Info = infoIn
		obs.Dropped(dg, "encrypted message before the keys exist")
		return
	}
	var inner []Payload
	f := payloadOf[*EncryptedFragment](m.Payloads)
	if f != nil { // RFC 7383 hook (frag.go)
		if !sa.takeFragment(dg, infoIn, m, f, sk) {
			return
		}
	} else if m.Encrypted() == nil {
		drop(fmt.Sprintf("%s message without an SK payload: it cannot be authenticated", h.Exchange))
		return
	} else if err := m.Decrypt(m.Raw, sk); err != nil {
		// RFC 7296, Section 2.21.2: what fails its integrity check is dropped without a
		// word. A *ParseError comes from a message whose ICV verified.
		var pe *ParseError
		if !errors.As(err, &pe) || isResp {
			drop(fmt.Sprintf("%s: cannot decrypt or verify the SK payload: %v", h.Exchange, err))
			return
		}
		if !sa.admit(h, drop) {
			return
		}
		infoIn.Dissect = sa.d.lazyDissect(m.Raw, sk)
		dg.Info = infoIn
		obs.Received(dg)
		sa.d.failure(sa, "", INVALID_SYNTAX, ike.FailMalformed, "%s: malformed %s request: %v: answer INVALID_SYNTAX", sa.name(), h.Exchange, err)
		sa.tookRequest(local, remote, m, false)
		sa.sendResponse(h.Exchange, h.MessageID, []Payload{&Notify{Type: INVALID_SYNTAX}})
		return
	}
	enc, ok := encryptedOf(m)
	if !ok {
		drop(fmt.Sprintf("%s message without an SK payload", h.Exchange))
		return
	}
	inner = enc.Inner
	if !isResp && !sa.admit(h, drop) {
		return
	}
	infoIn.MessageFacts = Describe(m, !h.IsResponse())
	if infoIn.Dissect == nil { // a reassembled message has its own (frag.go)
		infoIn.Dissect = sa.d.lazyDissect(m.Raw, sk)
	}
	dg.Info = infoIn
	obs.Received(dg)
	sa.lastIn = sa.d.env.Clock.Now()
	sa.updateHosts(local, remote, h)
	if isResp {
		r := sa.outstanding
		r.timer.Stop()
		sa.outstanding = nil
		sa.nextRequestID++
		r.onReply(m, inner)
		sa.nextQueued()
		return
	}
	sa.tookRequest(local, remote, m, f != nil)
	switch h.Exchange {
	case IKE_AUTH:
		sa.respondAuth(m, inner)
	case CREATE_CHILD_SA:
		sa.respondCreateChild(m, inner)
	case INFORMATIONAL:
		sa.respondInformational(m, inner)
	default:
		sa.sendResponse(h.Exchange, h.MessageID, []Payload{&Notify{Type: INVALID_SYNTAX}})
		sa.d.failure(sa, "", 0, ike.FailMalformed, "%s: unexpected %s request", sa.name(), h.Exchange)
	}
}

// tookRequest moves the window past a verified request that this side answers, and
// notes where it came from and its bytes, for the response and for retransmissions.
// Of a reassembled request the first fragment stands for the whole (RFC 7383, Section
// 2.6.1; strongSwan hashes only that one too).
func (sa *ikeSA) tookRequest(local, remote netip.AddrPort, m *Message, reassembled bool) {
	sa.nextPeerID = m.MessageID + 1
	sa.replyLocal, sa.replyRemote = local, remote
	if reassembled {
		sa.lastRequest = sa.ext.frag.firstHash
	} else {
		sa.lastRequest = sha256.Sum256(m.Raw)
	}
}

// resendReply answers a retransmitted request with the cached response, back where the
// retransmission came from (strongSwan does the same). Of a fragmented request only the
// first fragment matches the request's hash, so only it is answered (RFC 7383, Section
// 2.6.2).
func (sa *ikeSA) resendReply(dg ike.Datagram, infoIn *ike.MessageInfo, m *Message) {
	infoIn.Dissect = sa.d.lazyDissect(m.Raw, sa.skIn())
	dg.Info = infoIn
	sa.d.env.Observer.Received(dg)
	sa.d.action("Request %d is a retransmission: send the cached response again", m.MessageID)
	info := *sa.lastReplyInfo
	info.Retransmit = true
	sa.sendTo(dg.Local, dg.Remote, sa.lastReply, &info)
}

// admit says whether the SA's state admits a verified request, as RFC 7296 orders the
// exchanges and strongSwan's task manager enforces it (reject_request): IKE_AUTH only to
// a responder that waits for it; no other request before the IKE SA is up (Sections
// 1.3 and 1.4: CREATE_CHILD_SA and INFORMATIONAL come after the initial exchanges), to
// a responder or to an initiator whose rogue responder holds the keys; after a rekey
// only INFORMATIONAL, for the old SA's Delete. A refused request is dropped unanswered
// and moves no window. A CREATE_CHILD_SA request to a responder's half-open SA ends
// that SA, as strongSwan ends it; strongSwan answers an INFORMATIONAL there, but the
// RFC allows it only after the initial exchanges, so it is ignored.
func (sa *ikeSA) admit(h *Header, drop func(string)) bool {
	ex := h.Exchange
	var why string
	switch {
	case ex == IKE_AUTH && (sa.initiator || sa.state != stateConnecting):
		why = fmt.Sprintf("IKE_AUTH request to the %s of an IKE SA in state %s: IKE_AUTH only sets up a responder's IKE SA", role(sa.initiator), sa.state)
	case ex == IKE_AUTH:
	case sa.state == stateCreated || sa.state == stateConnecting:
		why = fmt.Sprintf("%s request before IKE_AUTH completed: only IKE_AUTH may follow IKE_SA_INIT (RFC 7296, Section 1.3)", ex)
	case sa.state == stateRekeyed && ex != INFORMATIONAL:
		why = fmt.Sprintf("%s request to a rekeyed IKE SA: only the Delete that closes it may come", ex)
	case sa.state == stateDestroyed:
		why = fmt.Sprintf("%s request to a destroyed IKE SA", ex)
	}
	if why == "" {
		return true
	}
	drop(why)
	if ex == CREATE_CHILD_SA && !sa.initiator && sa.state == stateConnecting {
		sa.failWith(0, ike.FailRefused, "CREATE_CHILD_SA request on a half-open IKE SA: end it, as strongSwan does")
	}
	return false
}

// updateHosts follows the peer to the ends a verified message came between (RFC 7296,
// Section 2.23), as strongSwan's update_hosts does: the first IKE_AUTH request moves
// both ends, since an initiator that detects a NAT floats to port 4500 for it; any
// other message moves the peer's end only when the peer is behind a NAT (and not when
// this side, the original initiator, is behind one too), and never ours.
func (sa *ikeSA) updateHosts(local, remote netip.AddrPort, h *Header) {
	force := h.Exchange == IKE_AUTH && !h.IsResponse() && h.MessageID == 1
	if remote != sa.remote && (force || (sa.natRemote && !(sa.natLocal && sa.initiator))) {
		sa.d.action("Peer's address changed from %s to %s (NAT mapping): answer to the new one", sa.remote, remote)
		sa.remote = remote
	}
	if local != sa.local && force {
		sa.d.action("The peer now sends to our port %d (%s, was %s): answer from there (NAT traversal, RFC 7296, Section 2.23)", local.Port(), local, sa.local)
		sa.local = local
	}
}

func encryptedOf(m *Message) (*Encrypted, bool) {
	for _, p := range m.Payloads {
		if e, ok := p.(*Encrypted); ok {
			return e, true
		}
	}
	return nil, false
}

// notifyIn returns the first notify of type t among ps.
func notifyIn(ps []Payload, t NotifyType) *Notify {
	return daemon.First(ps, func(n *Notify) bool { return n.Type == t })
}

// errorNotify returns the first error notify among ps.
func errorNotify(ps []Payload) *Notify {
	return daemon.First(ps, func(n *Notify) bool { return n.Type.IsError() })
}

func payloadOf[T Payload](ps []Payload) T { return daemon.First[T](ps, nil) }

func tsPayload(ps []Payload, responder bool) *TS {
	return daemon.First(ps, func(t *TS) bool { return t.Responder == responder })
}

func noncePayload(ps []Payload) *Nonce { return payloadOf[*Nonce](ps) }

// idPayload returns IDr when responder is set, else IDi: the two share a Go type, and
// an initiator may send both (RFC 7296, Section 3.5).
func idPayload(ps []Payload, responder bool) *ID {
	return daemon.First(ps, func(id *ID) bool { return id.Responder == responder })
}

func (sa *ikeSA) startTimer(name string, d time.Duration, f func()) { sa.timers.Start(name, d, f) }

// stopTimers cancels every timer, the retransmission's last.
func (sa *ikeSA) stopTimers() {
	sa.timers.StopAll()
	if sa.outstanding != nil && sa.outstanding.timer != nil {
		sa.outstanding.timer.Stop()
	}
}

func (sa *ikeSA) info() *ike.IKESAInfo {
	i := &ike.IKESAInfo{Version: 2, SPIi: sa.spiI, SPIr: sa.spiR, Initiator: sa.initiator, Local: sa.local,
		Remote: sa.remote, Proposal: sa.proposal, SKd: sa.keys.SKd, SKai: sa.keys.SKai, SKar: sa.keys.SKar,
		SKei: sa.keys.SKei, SKer: sa.keys.SKer, SKpi: sa.keys.SKpi, SKpr: sa.keys.SKpr, Established: sa.d.env.Clock.Now(),
		Instance: sa.instance()}
	if sa.conn != nil {
		i.Conn = sa.conn.Name
		i.LocalID = sa.conn.Local.ID
		i.RemoteID = sa.remoteID()
	}
	return i
}

// destroy ends the SA and all its children without telling the peer.
func (sa *ikeSA) destroy(reason string) {
	if sa.state == stateDestroyed {
		return
	}
	sa.stopTimers()
	for _, ch := range sa.children {
		ch.down(reason)
	}
	sa.children = nil
	if sa.keys.SKd != nil && sa.encr != nil {
		sa.d.env.Observer.IKESADown(sa.info(), reason)
	}
	sa.d.uncountHalfOpen(sa) // it never got to IKE_AUTH, or failed in it
	sa.releaseVIP()
	if sa.authChild != nil {
		sa.d.core.AcquireFailed(sa.authChild.ReqID, reason)
	}
	for _, ch := range sa.pendingChildren {
		sa.d.core.AcquireFailed(ch.ReqID, reason)
	}
	sa.setState(stateDestroyed)
	delete(sa.d.sas, sa.mySPI())
	if sa.initHash != (initKey{}) {
		delete(sa.d.initHashes, sa.initHash)
	}
	sa.outstanding = nil
	sa.waiting = nil
}

// failWith ends an SA that could not be established, with the notify sent or received
// (0: none) and the reason of the failure.
func (sa *ikeSA) failWith(n NotifyType, reason ike.FailReason, format string, args ...any) {
	sa.failed = fmt.Sprintf(format, args...)
	sa.d.failure(sa, "", n, reason, "%s: %s", sa.name(), sa.failed)
	sa.destroy(sa.failed)
}

// lazyDissect defers Dissect until the trace is looked at; it keeps its own copy of the
// keys, which the SA may replace meanwhile. CERTREQ payloads name the CAs of the node's
// trust store.
func (d *Daemon) lazyDissect(raw []byte, sk *SKCrypto) func() *ike.Field {
	var keys *SKCrypto
	if sk != nil {
		c := *sk
		keys = &c
	}
	cas := d.trustStore()
	return func() *ike.Field { return DissectWith(raw, keys, cas) }
}

// trustStore is every CA certificate the node's connections trust.
func (d *Daemon) trustStore() []*x509.Certificate {
	var cas []*x509.Certificate
	for _, c := range d.core.Conns {
		cas = append(cas, c.CACerts...)
	}
	return cas
}
